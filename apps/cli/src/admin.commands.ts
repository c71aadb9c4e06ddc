import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import { AdminClient } from './admin-client';
import { readImportFile } from './import-file';

export const ADMIN_USAGE = `admin commands (talk to the admin API at RESOLVER_URL with ADMIN_TOKEN):
  users create --email E [--tenant T] [--username U] [--name N] [--roles a,b] [--kind service]
               [--link ISSUER=SUBJECT]
  users get ID | users list [--tenant T] [--status S] [--email E] [--provenance P] [--deleted true|all] [--limit N]
  users update ID [--email E] [--username U] [--name N] [--roles a,b]
  users disable|enable|lock|unlock|delete|restore|sign-out ID
  identities list ID | identities link ID --issuer I --subject S [--tenant T] | identities unlink ID IDENTITY_ID
  revoke --issuer I --jti J --expires-at ISO8601
  flush
  import FILE (.csv or .jsonl) [--dry-run] [--batch N]
  audit [--limit N]   stored subjects, tenants, emails, usernames that tokens can no longer reach
                      (not canonical: see README "Security model"), each with its fix`;

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const LIFECYCLE = ['disable', 'enable', 'lock', 'unlock', 'delete', 'restore', 'sign-out'];

/** `users …` */
export async function usersCommand(args: string[], config: ResolverConfig): Promise<number> {
  const [verb = '', ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      tenant: { type: 'string' },
      username: { type: 'string' },
      name: { type: 'string' },
      roles: { type: 'string' },
      kind: { type: 'string' },
      link: { type: 'string', multiple: true },
      status: { type: 'string' },
      provenance: { type: 'string' },
      deleted: { type: 'string' },
      limit: { type: 'string' },
      cursor: { type: 'string' },
    },
  });
  const client = new AdminClient(config);
  const id = positionals[0];
  const fields = {
    email: values.email,
    username: values.username,
    displayName: values.name,
    roles: values.roles?.split(',').filter(Boolean),
  };
  switch (verb) {
    case 'create': {
      const identities = (values.link ?? []).map((pair) => {
        const eq = pair.lastIndexOf('=');
        return {
          issuer: pair.slice(0, eq),
          subject: pair.slice(eq + 1),
          tenant: values.tenant ?? '',
        };
      });
      print(
        await client.call('POST', '/users', {
          ...fields,
          tenant: values.tenant,
          kind: values.kind,
          identities,
        }),
      );
      return 0;
    }
    case 'list': {
      const query = new URLSearchParams(
        Object.entries({
          tenant: values.tenant,
          status: values.status,
          email: values.email,
          provenance: values.provenance,
          deleted: values.deleted,
          limit: values.limit,
          cursor: values.cursor,
        }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      print(await client.call('GET', `/users?${query}`));
      return 0;
    }
    case 'get':
    case 'update':
      if (!id) return usage(`users ${verb} needs a user id`);
      print(
        verb === 'get'
          ? await client.call('GET', `/users/${id}`)
          : await client.call('PATCH', `/users/${id}`, fields),
      );
      return 0;
    default:
      if (verb && LIFECYCLE.includes(verb)) {
        if (!id) return usage(`users ${verb} needs a user id`);
        print(await client.call('POST', `/users/${id}/${verb}`));
        return 0;
      }
      return usage(`unknown users verb ${JSON.stringify(verb ?? '')}`);
  }
}

/** `identities …` */
export async function identitiesCommand(args: string[], config: ResolverConfig): Promise<number> {
  const [verb = '', ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      issuer: { type: 'string' },
      subject: { type: 'string' },
      tenant: { type: 'string' },
    },
  });
  const client = new AdminClient(config);
  const [id, identityId] = positionals;
  if (!id) return usage(`identities ${verb ?? ''} needs a user id`);
  switch (verb) {
    case 'list':
      print(await client.call('GET', `/users/${id}/identities`));
      return 0;
    case 'link':
      print(
        await client.call('POST', `/users/${id}/identities`, {
          issuer: values.issuer,
          subject: values.subject,
          tenant: values.tenant,
        }),
      );
      return 0;
    case 'unlink':
      if (!identityId) return usage('identities unlink needs a user id and an identity id');
      await client.call('DELETE', `/users/${id}/identities/${identityId}`);
      return 0;
    default:
      return usage(`unknown identities verb ${JSON.stringify(verb ?? '')}`);
  }
}

/** `revoke --issuer I --jti J --expires-at T` */
export async function revokeCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      issuer: { type: 'string' },
      jti: { type: 'string' },
      'expires-at': { type: 'string' },
    },
  });
  print(
    await new AdminClient(config).call('POST', '/tokens/revoke', {
      issuer: values.issuer,
      jti: values.jti,
      expiresAt: values['expires-at'],
    }),
  );
  return 0;
}

/** `flush`: every replica drops its caches. */
export async function flushCommand(config: ResolverConfig): Promise<number> {
  print(await new AdminClient(config).call('POST', '/caches/flush'));
  return 0;
}

/** `import FILE [--dry-run] [--batch N]`: batches rows to the admin API with a progress bar. */
export async function importCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      batch: { type: 'string', default: '200' },
    },
  });
  const file = positionals[0];
  if (!file) return usage('import needs a file (.csv or .jsonl)');
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 1000)
    return usage('--batch must be 1..1000');
  const client = new AdminClient(config);
  const { rows, errors } = await readImportFile(file);
  const totals = { created: 0, updated: 0, rejected: errors.length };
  const rejected: string[] = [...errors];
  const progress = (done: number) => {
    if (!process.stderr.isTTY) return;
    const width = 30;
    const filled = rows.length ? Math.round((done / rows.length) * width) : width;
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${rows.length} rows`,
    );
  };
  for (let start = 0; start < rows.length; start += batch) {
    const chunk = rows.slice(start, start + batch);
    const { results } = await client.call<{
      results: { row: number; result: keyof typeof totals; error?: string }[];
    }>('POST', '/users/import', { rows: chunk, dryRun: values['dry-run'] });
    for (const r of results) {
      totals[r.result]++;
      if (r.result === 'rejected') rejected.push(`row ${start + r.row}: ${r.error}`);
    }
    progress(Math.min(start + batch, rows.length));
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const line of rejected) process.stderr.write(`rejected ${line}\n`);
  process.stdout.write(
    `${values['dry-run'] ? 'dry run (nothing written): ' : ''}created ${totals.created}, updated ${totals.updated}, rejected ${totals.rejected}\n`,
  );
  return totals.rejected ? 1 : 0;
}

function usage(message: string): number {
  process.stderr.write(`${message}\n\n${ADMIN_USAGE}\n`);
  return 2;
}

/** `audit [--limit N]`: stored identifiers the canonical rules would refuse, with a fix each. */
export async function auditCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values } = parseArgs({ args, options: { limit: { type: 'string' } } });
  const query = values.limit ? `?limit=${encodeURIComponent(values.limit)}` : '';
  const report = await new AdminClient(config).call<{ findings: unknown[]; truncated: boolean }>(
    'GET',
    `/audit/identifiers${query}`,
  );
  print(report);
  process.stderr.write(
    report.findings.length === 0
      ? 'no stored identifier needs attention\n'
      : `${report.findings.length} stored identifier(s) need attention${report.truncated ? ' (more remain: fix these and run again)' : ''}\n`,
  );
  return 0;
}
