import { parseArgs } from 'node:util';
import type { ResolverConfig } from '@resolver/config';
import {
  asDevFormat,
  DEV_TOKEN_FORMATS,
  type DevIssuer,
  type DevSigning,
  type DevTokenFormat,
  mintDevToken,
  readDevIssuer,
} from '@resolver/tokens';
import { joinNegativeTimes, parseTimeArg, TIME_ARG_HELP } from './time-arg';

export const TOKEN_USAGE = `usage: token --sub SUBJECT [--email E] [--name N] [--username U] [--roles a,b]
             [--tenant T] [--ttl SECONDS] [--aud A[,B]] [--exp T] [--nbf T] [--iat T]
             [--claim key=value ...] [--omit CLAIM ...] [--sign-with dev|none|other-key]
             [--format jws|jwe|paseto]
Prints a token from the embedded development issuer on stdout (and nothing else).
  --format jwe encrypts the signed JWT to the dev issuer's encryption key (a nested JWT);
  --format paseto mints a PASETO v4.public token with the same claims (times as RFC 3339).
  T: ${TIME_ARG_HELP}; past times are allowed.
  --claim overrides anything in the payload (iss, aud, exp, jti, …; values are JSON when they
  parse as JSON, else strings); --omit drops a claim. --sign-with none mints an unsigned token,
  other-key signs with a key the resolver does not know. When the result is one the resolver
  will refuse, a warning on stderr says with which reason: a refusal example.`;

/** The dev issuer's clock tolerance (devIssuerConfig). */
const TOLERANCE_SECONDS = 30;

/** `token`: mints a development token (embedded mode only). */
export async function tokenCommand(args: string[], config: ResolverConfig): Promise<number> {
  const { values } = parseArgs({
    args: joinNegativeTimes(args, ['--exp', '--nbf', '--iat']),
    options: {
      sub: { type: 'string' },
      email: { type: 'string' },
      name: { type: 'string' },
      username: { type: 'string' },
      roles: { type: 'string' },
      tenant: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      aud: { type: 'string' },
      exp: { type: 'string' },
      nbf: { type: 'string' },
      iat: { type: 'string' },
      claim: { type: 'string', multiple: true },
      omit: { type: 'string', multiple: true },
      'sign-with': { type: 'string', default: 'dev' },
      format: { type: 'string', default: 'jws' },
    },
    strict: true,
  });
  const fail = (message: string) => {
    process.stderr.write(`${message}\n${TOKEN_USAGE}\n`);
    return 2;
  };
  if (!values.sub) return fail('--sub is required');
  const ttl = Number(values.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > 86_400)
    return fail('--ttl must be a whole number of seconds between 1 and 86400');
  const signWith = values['sign-with'];
  if (signWith !== 'dev' && signWith !== 'none' && signWith !== 'other-key')
    return fail(`--sign-with must be dev, none or other-key, got ${JSON.stringify(signWith)}`);
  const format = values.format as DevTokenFormat;
  if (!DEV_TOKEN_FORMATS.includes(format))
    return fail(`--format must be jws, jwe or paseto, got ${JSON.stringify(values.format)}`);
  if (format === 'paseto' && signWith === 'none')
    return fail('--sign-with none has no PASETO form: a v4.public token is always signed');
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = { sub: values.sub };
  for (const name of ['exp', 'nbf', 'iat'] as const) {
    const raw = values[name];
    if (raw === undefined) continue;
    const at = parseTimeArg(raw, now);
    if (at === undefined)
      return fail(`--${name}: cannot read ${JSON.stringify(raw)}; use ${TIME_ARG_HELP}`);
    claims[name] = at;
  }
  if (values.aud !== undefined) {
    const audiences = values.aud.split(',').filter(Boolean);
    claims.aud = audiences.length === 1 ? audiences[0] : audiences;
  }
  if (values.email) claims.email = values.email;
  if (values.name) claims.name = values.name;
  if (values.username) claims.preferred_username = values.username;
  if (values.roles) claims.roles = values.roles.split(',').filter(Boolean);
  if (values.tenant) claims.tenant = values.tenant;
  for (const pair of values.claim ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return fail(`--claim must be key=value, got ${JSON.stringify(pair)}`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep it as a string.
    }
    claims[pair.slice(0, eq)] = value;
  }
  if (config.mode !== 'embedded') {
    process.stderr.write('the development issuer exists only in embedded mode (no DATABASE_URL)\n');
    return 2;
  }
  let dev: DevIssuer;
  try {
    dev = await readDevIssuer(config.embedded.dataDir);
  } catch {
    process.stderr.write(
      `no development issuer under ${config.embedded.dataDir}: start the resolver first (npm start)\n`,
    );
    return 1;
  }
  const token = await mintDevToken(dev, claims, ttl, signWith);
  const payload = JSON.parse(
    Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'),
  ) as Record<string, unknown>;
  for (const name of values.omit ?? []) delete payload[name];
  const final = values.omit?.length ? await remint(dev, payload, signWith) : token;
  const refusals = expectedRefusals(dev, payload, signWith, now);
  if (refusals.length) {
    process.stderr.write(
      `warning: the resolver will refuse this token with ${refusals[0]?.reason} (${refusals[0]?.why})` +
        `${
          refusals.length > 1
            ? `; also wrong: ${refusals
                .slice(1)
                .map((r) => `${r.reason} (${r.why})`)
                .join(', ')}`
            : ''
        }` +
        ' — a refusal example\n',
    );
  }
  process.stdout.write(`${await asDevFormat(dev, final, format, signWith)}\n`);
  return 0;
}

/** Signs `payload` exactly as given (after --omit), with no defaults filled back in. */
async function remint(
  dev: DevIssuer,
  payload: Record<string, unknown>,
  signWith: DevSigning,
): Promise<string> {
  // Every default is present in `payload` already, so mintDevToken adds nothing back; the
  // omitted names are set to undefined, which JSON leaves out.
  const omitted = Object.fromEntries(
    ['iss', 'aud', 'iat', 'exp', 'jti'].filter((k) => !(k in payload)).map((k) => [k, undefined]),
  );
  return mintDevToken(dev, { ...payload, ...omitted }, 1, signWith);
}

/**
 * What the resolver will say about this token, in the order its checks run (issuer, algorithm,
 * signature, claim types and presence, audience, nbf, exp, iat): the first entry is the reason
 * it answers.
 */
export function expectedRefusals(
  dev: Pick<DevIssuer, 'issuer' | 'audience'>,
  payload: Record<string, unknown>,
  signWith: DevSigning,
  now: number,
): { reason: string; why: string }[] {
  const out: { reason: string; why: string }[] = [];
  if (payload.iss !== dev.issuer)
    out.push({ reason: 'ISSUER_UNKNOWN', why: `iss is not the dev issuer ${dev.issuer}` });
  if (signWith === 'none') out.push({ reason: 'ALGORITHM_NOT_ALLOWED', why: 'alg none' });
  if (signWith === 'other-key')
    out.push({
      reason: 'SIGNATURE_INVALID',
      why: 'signed with a key the dev issuer never published',
    });
  const times = ['exp', 'nbf', 'iat'] as const;
  for (const name of times) {
    if (name in payload && (typeof payload[name] !== 'number' || !Number.isFinite(payload[name])))
      out.push({ reason: 'CLAIM_INVALID', why: `${name} is not a number` });
  }
  if (!('exp' in payload)) out.push({ reason: 'CLAIM_INVALID', why: 'exp is required' });
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.includes(dev.audience))
    out.push({ reason: 'AUDIENCE_MISMATCH', why: `aud does not contain ${dev.audience}` });
  if (typeof payload.exp === 'number' && payload.exp <= now - TOLERANCE_SECONDS)
    out.push({ reason: 'TOKEN_EXPIRED', why: `exp is ${now - payload.exp} s ago` });
  if (typeof payload.nbf === 'number' && payload.nbf > now + TOLERANCE_SECONDS)
    out.push({ reason: 'TOKEN_NOT_YET_VALID', why: `nbf is ${payload.nbf - now} s ahead` });
  if (typeof payload.iat === 'number' && payload.iat > now + TOLERANCE_SECONDS)
    out.push({ reason: 'CLAIM_INVALID', why: `iat is ${payload.iat - now} s in the future` });
  return out;
}
