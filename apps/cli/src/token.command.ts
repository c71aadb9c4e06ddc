import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import { mintDevToken, readDevIssuer } from '@resolver/tokens';

export const TOKEN_USAGE = `usage: token --sub SUBJECT [--email E] [--name N] [--username U] [--roles a,b]
             [--tenant T] [--ttl SECONDS] [--claim key=value ...]
Prints a token from the embedded development issuer on stdout (and nothing else).`;

/** `token`: mints a development token (embedded mode only). */
export async function tokenCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      username: { type: 'string' },
      roles: { type: 'string' },
      tenant: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      claim: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.sub) {
    process.stderr.write(`--sub is required\n${TOKEN_USAGE}\n`);
    return 2;
  }
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86_400) {
    process.stderr.write('--ttl must be a whole number of seconds between 1 and 86400\n');
    return 2;
  }
  if (config.mode !== 'embedded') {
    process.stderr.write('the development issuer exists only in embedded mode (no DATABASE_URL)\n');
    return 2;
  }
  let dev;
  try {
    dev = await readDevIssuer(config.embedded.dataDir);
  } catch {
    process.stderr.write(
      `no development issuer under ${config.embedded.dataDir}: start the resolver first (npm start)\n`,
    );
    return 1;
  }
  const claims: Record<string, unknown> = { sub: values.sub };
  if (values.email) claims.email = values.email;
  if (values.name) claims.name = values.name;
  if (values.username) claims.preferred_username = values.username;
  if (values.roles) claims.roles = values.roles.split(',').filter(Boolean);
  if (values.tenant) claims.tenant = values.tenant;
  for (const pair of values.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      process.stderr.write(`--claim must be key=value, got ${JSON.stringify(pair)}\n`);
      return 2;
    }
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep it as a string.
    }
    claims[pair.slice(0, eq)] = value;
  }
  process.stdout.write(`${await mintDevToken(dev, claims, ttl)}\n`);
  return 0;
}
