import { createHmac, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { CompactEncrypt } from 'jose';
import { pae, toPaserk } from '@resolver/tokens';
import type { Pool } from 'pg';
import { createTestDatabase, seedUser, sqlPool } from './support/database';
import { signWith } from './support/hostile';
import { JwksServer } from './support/jwks-server';
import { ResolverHarness } from './support/resolver-harness';
import { TokenFactory } from './support/token-factory';

/**
 * The explainer never contradicts the resolver. fast-check builds tokens that carry 0–3
 * simultaneous faults drawn from every dimension — issuer, key and algorithm, signature, every
 * time claim (non-numeric and out-of-range ones included), audience shapes, subject and email
 * shapes, tenant claim shapes, service-account claims, revoked or fresh `jti`, user states
 * (active, disabled, locked, deleted, signed out), case near misses, JIT on or off, JIT's
 * required claim missing and its email already taken — and the token's format: the JWS itself, or
 * the JWS encrypted to its issuer's key (JWE), to a key the resolver lacks, or an encrypted
 * unsigned claims set, or the same claims as a PASETO v4.public token (times as RFC 3339 where
 * they are dates, as they are otherwise), or an opaque token whose claims an RFC 7662 endpoint
 * answers (or that it calls inactive). Each token is diagnosed, then resolved,
 * then both again with the caches warm; the verdict's reason, HTTP status and source must equal
 * the answer every time.
 */

const AUD = 'api://differential';
const ADMIN_TOKEN = 'admin-secret-for-differential-0123';
const J = 'https://j.diff.test'; // JIT on (email required), service accounts with JIT, RS256+ES256
const N = 'https://n.diff.test'; // JIT off, RS256 only
const RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 1000);

let idp: JwksServer;
let keys: TokenFactory;
let evil: TokenFactory;
let app: ResolverHarness;
let db: Pool;
let counter = 0;

/** What a token is made of; every field has a valid value and a few faults. */
interface Scenario {
  issuer: 'J' | 'N' | 'unknown';
  key: 'rsa' | 'ec' | 'evil' | 'unknownKid' | 'hs256' | 'none';
  signature: 'ok' | 'flipped';
  exp: 'ok' | 'past' | 'string' | 'huge' | 'missing';
  nbf: 'absent' | 'future' | 'past' | 'string';
  iat: 'ok' | 'future' | 'string' | 'hugeNegative' | 'missing';
  aud: 'ok' | 'wrong' | 'array' | 'missing' | 'number';
  user:
    | 'active'
    | 'new'
    | 'disabled'
    | 'locked'
    | 'deleted'
    | 'signedOut'
    | 'caseVariant'
    | 'whitespace'
    | 'missing'
    | 'number';
  email: 'own' | 'missing' | 'taken' | 'padded';
  tenant: 'absent' | 'acme' | 'blank' | 'number';
  jti: 'none' | 'fresh' | 'revoked';
  service: 'no' | 'machine' | 'machineNoClient';
  wrap: 'plain' | 'jwe' | 'jweOtherKey' | 'jweUnsigned' | 'paseto' | 'opaque' | 'opaqueInactive';
}

const BASE: fc.Arbitrary<Scenario> = fc.record({
  issuer: fc.constantFrom('J', 'N'),
  key: fc.constant('rsa'),
  signature: fc.constant('ok'),
  exp: fc.constant('ok'),
  nbf: fc.constantFrom('absent', 'past'),
  iat: fc.constant('ok'),
  aud: fc.constantFrom('ok', 'array'),
  user: fc.constantFrom('active', 'new'),
  email: fc.constant('own'),
  tenant: fc.constant('absent'),
  jti: fc.constantFrom('none', 'fresh'),
  service: fc.constant('no'),
  wrap: fc.constantFrom('plain', 'jwe', 'paseto', 'opaque'),
});

type Fault = { [K in keyof Scenario]: [K, Scenario[K]] }[keyof Scenario];
const FAULTS: Fault[] = [
  ['issuer', 'unknown'],
  ['key', 'ec'],
  ['key', 'evil'],
  ['key', 'unknownKid'],
  ['key', 'hs256'],
  ['key', 'none'],
  ['signature', 'flipped'],
  ['exp', 'past'],
  ['exp', 'string'],
  ['exp', 'huge'],
  ['exp', 'missing'],
  ['nbf', 'future'],
  ['nbf', 'string'],
  ['iat', 'future'],
  ['iat', 'string'],
  ['iat', 'hugeNegative'],
  ['iat', 'missing'],
  ['aud', 'wrong'],
  ['aud', 'missing'],
  ['aud', 'number'],
  ['user', 'disabled'],
  ['user', 'locked'],
  ['user', 'deleted'],
  ['user', 'signedOut'],
  ['user', 'caseVariant'],
  ['user', 'whitespace'],
  ['user', 'missing'],
  ['user', 'number'],
  ['email', 'missing'],
  ['email', 'taken'],
  ['email', 'padded'],
  ['tenant', 'acme'],
  ['tenant', 'blank'],
  ['tenant', 'number'],
  ['jti', 'revoked'],
  ['service', 'machine'],
  ['service', 'machineNoClient'],
  ['wrap', 'jweOtherKey'],
  ['wrap', 'jweUnsigned'],
  ['wrap', 'opaqueInactive'],
];

const SCENARIO = fc
  .tuple(BASE, fc.array(fc.constantFrom(...FAULTS), { maxLength: 3 }))
  .map(([base, faults]) => {
    const s = { ...base } as Record<string, unknown>;
    for (const [dimension, value] of faults) s[dimension] = value;
    return s as unknown as Scenario;
  });

function jwsFor(s: Scenario): string {
  const now = Math.floor(Date.now() / 1000);
  const n = ++counter;
  const iss = s.issuer === 'J' ? J : s.issuer === 'N' ? N : 'https://unknown.diff.test';
  const subjects: Record<Scenario['user'], unknown> = {
    active: 'active',
    new: `new-${n}`,
    disabled: 'disabled',
    locked: 'locked',
    deleted: 'deleted',
    signedOut: 'signed-out',
    caseVariant: 'bob',
    whitespace: 'active\u3000',
    missing: undefined,
    number: 42,
  };
  const sub = subjects[s.user];
  const emails: Record<Scenario['email'], unknown> = {
    own: `${typeof sub === 'string' ? sub : 'nobody'}-${n}@mail.example`,
    missing: undefined,
    taken: 'taken@mail.example',
    padded: ` padded-${n}@mail.example `,
  };
  const claims: Record<string, unknown> = {
    iss,
    sub,
    email: emails[s.email],
    aud: {
      ok: AUD,
      wrong: 'api://elsewhere',
      array: ['api://other', AUD],
      missing: undefined,
      number: 7,
    }[s.aud],
    exp: { ok: now + 600, past: now - 3600, string: 'tomorrow', huge: 1e308, missing: undefined }[
      s.exp
    ],
    nbf: { absent: undefined, future: now + 3600, past: now - 60, string: 'now' }[s.nbf],
    iat: {
      ok: now - 10,
      future: now + 3600,
      string: 'earlier',
      hugeNegative: -1e308,
      missing: undefined,
    }[s.iat],
    tid: { absent: undefined, acme: 'acme', blank: '  ', number: 5 }[s.tenant],
    jti: { none: undefined, fresh: `jti-${n}`, revoked: 'revoked-jti' }[s.jti],
  };
  if (s.service !== 'no') {
    claims.token_use = 'machine';
    if (s.service === 'machine') claims.client_id = 'svc-client';
  }
  const kid = {
    rsa: keys.rsa.kid,
    ec: keys.ec.kid,
    evil: keys.rsa.kid,
    unknownKid: 'no-such-kid',
    hs256: keys.rsa.kid,
    none: undefined,
  }[s.key];
  const alg = {
    rsa: 'RS256',
    ec: 'ES256',
    evil: 'RS256',
    unknownKid: 'RS256',
    hs256: 'HS256',
    none: 'none',
  }[s.key];
  const header = { alg, typ: 'JWT', ...(kid ? { kid } : {}) };
  let token: string;
  if (s.key === 'hs256') {
    const input = `${b64(header)}.${b64(claims)}`;
    token = `${input}.${createHmac('sha256', 'not-the-key').update(input).digest('base64url')}`;
  } else if (s.key === 'none') {
    token = `${b64(header)}.${b64(claims)}.`;
  } else {
    token = signWith(
      s.key === 'ec' ? keys.ec : s.key === 'evil' ? evil.rsa : keys.rsa,
      header,
      claims,
    );
  }
  if (s.signature === 'flipped' && s.key !== 'none') {
    const [h, p, sig] = token.split('.') as [string, string, string];
    const i = Math.floor(sig.length / 2);
    token = `${h}.${p}.${sig.slice(0, i)}${sig[i] === 'A' ? 'B' : 'A'}${sig.slice(i + 1)}`;
  }
  return token;
}

/** Each issuer's JWE decryption key (the resolver holds the private half) and a stranger's. */
const ENC = {
  J: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  N: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  other: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
};

/** What the introspection endpoint answers for each opaque token it issued; others are inactive. */
const ANSWERS = new Map<string, Record<string, unknown>>();
let introspection: Server;

/** A loopback RFC 7662 endpoint: `token=` in a form body, the stored answer as JSON. */
async function startIntrospection(): Promise<string> {
  introspection = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(ANSWERS.get(token) ?? { active: false }));
    });
  });
  await new Promise<void>((r) => introspection.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/introspect`;
}

/** Each issuer's PASETO v4.public key, and a stranger's. */
const PASETO = {
  J: generateKeyPairSync('ed25519'),
  N: generateKeyPairSync('ed25519'),
  other: generateKeyPairSync('ed25519'),
};

/** The JWS's claims as a PASETO v4.public token (PASETO's own PAE and Ed25519). */
function pasetoFor(s: Scenario, jws: string): string {
  const claims = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as Record<
    string,
    unknown
  >;
  for (const name of ['exp', 'nbf', 'iat']) {
    const v = claims[name];
    if (typeof v === 'number' && Math.abs(v) < 1e11)
      claims[name] = new Date(v * 1000).toISOString();
  }
  const kid = s.key === 'unknownKid' ? 'no-such-kid' : s.issuer === 'N' ? 'p-n' : 'p-j';
  const key = s.key === 'evil' ? PASETO.other : s.issuer === 'N' ? PASETO.N : PASETO.J;
  const header = 'v4.public.';
  const message = Buffer.from(JSON.stringify(claims));
  const footer = Buffer.from(JSON.stringify({ kid }));
  const signature = sign(
    null,
    pae(Buffer.from(header), message, footer, Buffer.alloc(0)),
    key.privateKey,
  );
  return `${header}${Buffer.concat([message, signature]).toString('base64url')}.${footer.toString('base64url')}`;
}

/** The scenario's JWS, as itself or wrapped in a JWE (RFC 7519 §5.2 nesting) as it says. */
async function tokenFor(s: Scenario): Promise<string> {
  const jws = jwsFor(s);
  if (s.wrap === 'plain') return jws;
  if (s.wrap === 'paseto') return pasetoFor(s, jws);
  if (s.wrap === 'opaque' || s.wrap === 'opaqueInactive') {
    // The token is the issuer's prefix and random bytes; the endpoint answers the JWS's claims.
    const token = `${s.issuer === 'N' ? 'on_' : 'oj_'}${randomBytes(18).toString('base64url')}`;
    if (s.wrap === 'opaque')
      ANSWERS.set(token, {
        active: true,
        ...(JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString()) as object),
      });
    return token;
  }
  // A token of an unknown issuer is encrypted to J's key: the nested JWT names the issuer.
  const kid = s.issuer === 'N' ? 'enc-n' : 'enc-j';
  const to: KeyObject =
    s.wrap === 'jweOtherKey' ? ENC.other.publicKey : (s.issuer === 'N' ? ENC.N : ENC.J).publicKey;
  const unsigned = s.wrap === 'jweUnsigned';
  const plaintext = unsigned ? Buffer.from(jws.split('.')[1] ?? '', 'base64url') : jws;
  return new CompactEncrypt(new TextEncoder().encode(plaintext.toString()))
    .setProtectedHeader({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid,
      ...(unsigned ? {} : { cty: 'JWT' }),
    })
    .encrypt(to);
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

interface Outcome {
  reason: string;
  status: number;
  source?: string;
}

async function diagnose(token: string): Promise<Outcome> {
  const res = await app.http('/v1/diagnose', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (res.status !== 200) throw new Error(`diagnose answered ${res.status}`);
  const v = res.body.verdict;
  return { reason: v.reason, status: v.httpStatus, source: v.source };
}

async function resolve(token: string): Promise<Outcome> {
  const res = await app.resolveHttp({ token });
  return res.status === 200
    ? { reason: 'OK', status: 200, source: res.body.source }
    : { reason: res.body.reason, status: res.status, source: undefined };
}

beforeAll(async () => {
  idp = await new JwksServer().start();
  keys = await TokenFactory.create('diff');
  evil = await TokenFactory.create('diff');
  const jwksUri = idp.publishJwks('diff', keys.publicJwks());
  const databaseUrl = await createTestDatabase('differential');
  db = sqlPool(databaseUrl);
  const base = { jwksUri, audiences: [AUD], tenant: { claim: 'tid', required: false } };
  const endpoint = await startIntrospection();
  const introspecting = (prefix: string) => ({
    endpoint,
    prefix,
    clientAuth: { method: 'client_secret_basic', clientId: 'rs', clientSecretEnv: 'DIFF_RS' },
  });
  app = await ResolverHarness.start({
    databaseUrl,
    env: {
      ADMIN_TOKEN,
      DIFF_RS: 'differential-resource-server-secret',
      DIFF_ENC_J: ENC.J.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
      DIFF_ENC_N: ENC.N.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    },
    issuers: [
      {
        ...base,
        issuer: J,
        algorithms: ['RS256', 'ES256'],
        decryption: { keys: [{ kid: 'enc-j', env: 'DIFF_ENC_J' }] },
        paseto: { keys: [{ kid: 'p-j', paserk: toPaserk(PASETO.J.publicKey) }] },
        introspection: introspecting('oj_'),
        jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
        serviceAccounts: { when: { claim: 'token_use', equals: 'machine' }, jit: false },
      },
      {
        ...base,
        issuer: N,
        algorithms: ['RS256'],
        decryption: { keys: [{ kid: 'enc-n', env: 'DIFF_ENC_N' }] },
        paseto: { keys: [{ kid: 'p-n', paserk: toPaserk(PASETO.N.publicKey) }] },
        introspection: introspecting('on_'),
      },
    ],
  });
  for (const [iss, tag] of [
    [J, 'j'],
    [N, 'n'],
  ] as const) {
    const email = (s: string) => `${s}-${tag}@seed.example`;
    await seedUser(db, iss, { subject: 'active', email: email('active') });
    await seedUser(db, iss, { subject: 'disabled', email: email('disabled'), status: 'disabled' });
    await seedUser(db, iss, { subject: 'locked', email: email('locked'), status: 'locked' });
    const deleted = await seedUser(db, iss, { subject: 'deleted', email: email('deleted') });
    await db.query('UPDATE users SET deleted_at = now() WHERE id = $1', [deleted]);
    const out = await seedUser(db, iss, { subject: 'signed-out', email: email('out') });
    await db.query(`UPDATE users SET tokens_valid_after = now() + interval '1 day' WHERE id = $1`, [
      out,
    ]);
    await seedUser(db, iss, { subject: 'Bob', email: email('bob') });
    await db.query(
      `INSERT INTO revoked_tokens (issuer, jti, expires_at) VALUES ($1, 'revoked-jti', now() + interval '1 day')`,
      [iss],
    );
  }
  await seedUser(db, J, { subject: 'svc-client', kind: 'service', email: null });
  await db.query(`INSERT INTO users (email, provenance) VALUES ('taken@mail.example', 'admin')`);
});

afterAll(async () => {
  await app?.close();
  await db?.end();
  await idp?.stop();
  await new Promise((r) => introspection?.close(r));
});

describe('differential: diagnose predicts exactly what resolve answers', () => {
  it(`${RUNS} tokens with 0–3 faults each, diagnosed and resolved twice`, async () => {
    const seen = new Map<string, number>();
    const sources = new Set<string>();
    const byFormat = new Set<string>();
    await fc.assert(
      fc.asyncProperty(SCENARIO, async (scenario) => {
        const token = await tokenFor(scenario);
        for (const round of ['cold', 'warm']) {
          const predicted = await diagnose(token);
          const actual = await resolve(token);
          expect({ round, scenario, outcome: predicted }).toEqual({
            round,
            scenario,
            outcome: actual,
          });
          seen.set(actual.reason, (seen.get(actual.reason) ?? 0) + 1);
          if (actual.source) sources.add(actual.source);
          byFormat.add(`${scenario.wrap}:${actual.reason === 'OK' ? 'OK' : 'refused'}`);
        }
      }),
      { numRuns: RUNS },
    );
    // The corpus reaches deep: successes from every source and refusals of many kinds.
    expect([...sources].sort()).toEqual(['CACHE', 'PROVISIONED', 'STORE']);
    expect(seen.size).toBeGreaterThanOrEqual(12);
    // Encrypted tokens reached their decryption step and past it.
    expect(seen.get('DECRYPTION_FAILED')).toBeGreaterThan(0);
    expect(seen.get('TOKEN_INACTIVE')).toBeGreaterThan(0);
    for (const format of ['plain', 'jwe', 'paseto', 'opaque'])
      expect([format, byFormat.has(`${format}:OK`), byFormat.has(`${format}:refused`)]).toEqual([
        format,
        true,
        true,
      ]);
  });
});
