import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import { IMPORT_MAX_BODY_BYTES, IMPORT_MAX_ROWS } from '@resolver/provisioning';
import { AdminCallError, AdminClient } from './admin-client';
import { type NumberedRow, readImportFile } from './import-file';
import { joinNegativeTimes, parseTimeArg, TIME_ARG_HELP } from './time-arg';

export const ADMIN_USAGE = `admin commands (talk to the admin API at RESOLVER_URL with ADMIN_TOKEN):
  users create --email E [--tenant T] [--username U] [--name N] [--roles a,b] [--kind service]
               [--link ISSUER=SUBJECT]
  users get ID
  users list [--tenant T] [--status S] [--email E] [--provenance P] [--deleted true|all]
             [--limit N] [--cursor C]   (C: the nextCursor of the previous page)
  users update ID [--email E] [--username U] [--name N] [--roles a,b]
  users disable|enable|lock|unlock|delete|restore|sign-out ID
  identities list ID | identities link ID --issuer I --subject S [--tenant T] | identities unlink ID IDENTITY_ID
  revoke --issuer I --jti J --expires-at T   (T: ISO 8601 or +DURATION like +24h; not in the past)
  flush
  import FILE (.csv or .jsonl) [--dry-run] [--batch N]
  audit [--limit N]   stored subjects, tenants, emails, usernames that tokens can no longer reach
                      (not canonical: see docs/security-model.md), each with its fix`;

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
      print(await client.call('GET', `/users?${query.toString()}`));
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
    args: joinNegativeTimes(args, ['--expires-at']),
    options: {
      issuer: { type: 'string' },
      jti: { type: 'string' },
      'expires-at': { type: 'string' },
    },
  });
  const raw = values['expires-at'];
  const expiresAt =
    raw === undefined ? undefined : parseTimeArg(raw, Math.floor(Date.now() / 1000));
  if (raw !== undefined && expiresAt === undefined)
    return usage(`--expires-at: cannot read ${JSON.stringify(raw)}; use ${TIME_ARG_HELP}`);
  if (expiresAt !== undefined && expiresAt * 1000 <= Date.now()) {
    process.stderr.write(
      `--expires-at ${raw} is in the past (${new Date(expiresAt * 1000).toISOString()}): a token past its exp is already refused as TOKEN_EXPIRED; give the token's exp\n`,
    );
    return 2;
  }
  print(
    await new AdminClient(config).call('POST', '/tokens/revoke', {
      issuer: values.issuer,
      jti: values.jti,
      expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt * 1000).toISOString(),
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
  if (!Number.isInteger(batch) || batch < 1 || batch > IMPORT_MAX_ROWS)
    return usage(`--batch must be 1..${IMPORT_MAX_ROWS}`);
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
  let done = 0;
  for (const chunk of importBatches(rows, batch)) {
    let results: { row: number; result: keyof typeof totals; error?: string }[];
    // A row that alone exceeds the route's limit is refused here: uploading megabytes only for
    // the server to cut the connection (which fetch may report as "fetch failed", not 413).
    if (chunk.length === 1 && batchBytes(chunk) > IMPORT_BODY_BUDGET) {
      throw new AdminCallError(
        413,
        `the row on line ${chunk[0]?.line} alone is larger than the server accepts (${IMPORT_MAX_BODY_BYTES} bytes); shorten it (attributes, roles, identities) or leave it out (nothing was sent for it)`,
      );
    }
    try {
      ({ results } = await client.call<{ results: typeof results }>('POST', '/users/import', {
        rows: chunk.map((r) => r.row),
        dryRun: values['dry-run'],
      }));
    } catch (error) {
      if (error instanceof AdminCallError && error.status === 413)
        throw new AdminCallError(
          413,
          chunk.length === 1
            ? `${error.message}: the row on line ${chunk[0]?.line} alone is larger than the server accepts (${IMPORT_MAX_BODY_BYTES} bytes); shorten it (attributes, roles, identities) or leave it out`
            : `${error.message}: the batch starting at line ${chunk[0]?.line} (${chunk.length} rows) is larger than the server accepts (${IMPORT_MAX_BODY_BYTES} bytes); retry with a smaller --batch (e.g. --batch ${Math.max(1, Math.floor(chunk.length / 4))})`,
        );
      throw error;
    }
    for (const r of results) {
      totals[r.result]++;
      // The API numbers rows 1.. within the batch; report the file's line instead.
      if (r.result === 'rejected') rejected.push(`line ${chunk[r.row - 1]?.line}: ${r.error}`);
    }
    done += chunk.length;
    progress(done);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  rejected.sort((a, b) => lineOf(a) - lineOf(b));
  for (const line of rejected) process.stderr.write(`rejected ${line}\n`);
  process.stdout.write(
    `${values['dry-run'] ? 'dry run (nothing written): ' : ''}created ${totals.created}, updated ${totals.updated}, rejected ${totals.rejected}\n`,
  );
  return totals.rejected ? 1 : 0;
}

const lineOf = (message: string) => Number(/^line (\d+)/.exec(message)?.[1] ?? 0);

/** The import route's limit less room for the envelope ({"rows":[…],"dryRun":false}). */
const IMPORT_BODY_BUDGET = IMPORT_MAX_BODY_BYTES - 1024;

/** The JSON bytes the rows of a batch take in the request body (with their commas). */
function batchBytes(rows: readonly NumberedRow[]): number {
  let bytes = 0;
  for (const row of rows) bytes += Buffer.byteLength(JSON.stringify(row.row)) + 1;
  return bytes;
}

/**
 * Batches of at most `size` rows whose request body stays under the import route's limit, so a
 * file of large rows is sent in more requests instead of being refused with 413.
 */
export function* importBatches(
  rows: readonly NumberedRow[],
  size: number,
): Generator<NumberedRow[]> {
  let chunk: NumberedRow[] = [];
  let bytes = 0;
  for (const row of rows) {
    const rowBytes = batchBytes([row]);
    if (chunk.length && (chunk.length >= size || bytes + rowBytes > IMPORT_BODY_BUDGET)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(row);
    bytes += rowBytes;
  }
  if (chunk.length) yield chunk;
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
