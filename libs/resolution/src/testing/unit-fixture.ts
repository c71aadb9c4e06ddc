import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, type CryptoKey, exportJWK, generateKeyPair, SignJWT } from 'jose';
import pino, { type DestinationStream } from 'pino';
import { buildConfig, type ResolverConfig } from '@resolver/config';
import { FixedClock, ResolverLogger, ResolverMetrics, Tracing } from '@resolver/observability';
import { pae, TokenVerifier, toPaserk } from '@resolver/tokens';
import { SubjectCaches } from '../cache/subject-caches';
import { ResolveSubject } from '../resolve-subject';
import {
  InMemoryDatabase,
  InMemoryProofReplayRepository,
  InMemoryRevocationRepository,
  InMemoryUserRepository,
} from '@resolver/identity/testing';

/**
 * The use cases' unit-spec world: three issuers with static keys (no network; the JWKS issuer
 * points at a closed loopback port, for KEYS_UNAVAILABLE), in-memory stores and a fixed clock.
 */
export const NOW = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));
export const T = Math.floor(NOW.getTime() / 1000);
export const AUD = 'api://unit';
/** HMAC, JIT on (email required), tenant optional, client-credentials tokens are services. */
export const HS = 'https://hs.unit.test';
/** Static ES256 key file, JIT off, tenant required. */
export const ES = 'https://es.unit.test';
/** JWKS at a closed port. */
export const DOWN = 'https://down.unit.test';
const SECRET = 'a-unit-test-hmac-secret-of-32-bytes-or-more';
/** Opaque tokens starting `op_`, introspected at a loopback endpoint (see {@link opaqueEndpoint}). */
export const OPAQUE = 'https://opaque.unit.test';

/**
 * The OPAQUE issuer's introspection endpoint on 127.0.0.1: `op_olive` is active (olive, jti
 * op-jti-1, scope read), `op_broken` answers 500, every other token is inactive. Counts calls.
 */
async function opaqueEndpoint() {
  const counts = { calls: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      counts.calls++;
      const token = new URLSearchParams(body).get('token');
      if (token === 'op_broken') {
        res.writeHead(500).end();
        return;
      }
      const answer =
        token === 'op_olive'
          ? {
              active: true,
              iss: OPAQUE,
              aud: AUD,
              sub: 'olive',
              iat: T - 10,
              exp: T + 600,
              jti: 'op-jti-1',
              scope: 'read',
            }
          : { active: false };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`;
  return { url, counts, close: () => new Promise((r) => server.close(r)) };
}

export interface UnitWorld {
  readonly config: ResolverConfig;
  readonly clock: FixedClock;
  readonly users: InMemoryUserRepository;
  readonly revocations: InMemoryRevocationRepository;
  readonly proofs: InMemoryProofReplayRepository;
  readonly caches: SubjectCaches;
  readonly metrics: ResolverMetrics;
  readonly verifier: TokenVerifier;
  readonly resolver: ResolveSubject;
}

/** Builds the configuration and keys once per spec file; `world()` a fresh world per test. */
export async function unitIssuers(options: { serveStaleOnOutageSeconds?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'resolution-spec-'));
  const introspection = await opaqueEndpoint();
  const pair = await generateKeyPair('ES256', { extractable: true });
  const ecKey: CryptoKey = pair.privateKey;
  await writeFile(
    join(dir, 'es.jwk.json'),
    JSON.stringify({ ...(await exportJWK(pair.publicKey)), kid: 'es-1', alg: 'ES256' }),
  );
  // ES also takes encrypted JWTs (to `enc-1`) and PASETO v4.public tokens (key `p-1`).
  const encryption = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pasetoPair = generateKeyPairSync('ed25519');
  const config = buildConfig(
    {
      database: { url: 'postgres://unused/unused' },
      logging: { level: 'silent' },
      server: { requestTimeoutMs: 2_000 },
      cache: { serveStaleOnOutageSeconds: options.serveStaleOnOutageSeconds ?? 0 },
      issuers: [
        {
          issuer: HS,
          hmacSecretEnv: 'UNIT_SECRET',
          algorithms: ['HS256'],
          audiences: [AUD],
          tenant: { claim: 'tid', required: false },
          jit: { enabled: true, requiredClaims: ['email'], map: { email: 'email' } },
          serviceAccounts: { when: { claim: 'gty', equals: 'client' }, jit: false },
        },
        {
          issuer: ES,
          keys: [join(dir, 'es.jwk.json')],
          algorithms: ['ES256'],
          audiences: [AUD],
          tenant: { claim: 'tid', required: true },
          decryption: { keys: [{ kid: 'enc-1', env: 'UNIT_ENC_KEY' }] },
          paseto: { keys: [{ kid: 'p-1', paserk: toPaserk(pasetoPair.publicKey) }] },
        },
        {
          issuer: DOWN,
          jwksUri: 'http://127.0.0.1:1/jwks.json',
          algorithms: ['RS256'],
          audiences: [AUD],
          jwks: { timeoutMs: 200, cooldownMs: 0 },
        },
        {
          issuer: OPAQUE,
          keys: [join(dir, 'es.jwk.json')],
          algorithms: ['ES256'],
          audiences: [AUD],
          introspection: {
            endpoint: introspection.url,
            prefix: 'op_',
            clientAuth: {
              method: 'client_secret_basic',
              clientId: 'rs',
              clientSecretEnv: 'UNIT_SECRET',
            },
            requiredScopes: ['read'],
          },
        },
      ],
    },
    {
      UNIT_SECRET: SECRET,
      UNIT_ENC_KEY: encryption.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    },
    { source: 'unit', baseDir: dir },
  );

  /** An HS256 token for HS (alice, valid for 10 minutes) with `claims` and `header` on top. */
  const hs = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const h = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header })).toString(
      'base64url',
    );
    const p = Buffer.from(
      JSON.stringify({ iss: HS, aud: AUD, sub: 'alice', iat: T - 10, exp: T + 600, ...claims }),
    ).toString('base64url');
    return `${h}.${p}.${createHmac('sha256', SECRET).update(`${h}.${p}`).digest('base64url')}`;
  };
  /** An ES256 token for ES (erin in tenant acme). */
  const es = (claims: Record<string, unknown>, kid = 'es-1') =>
    new SignJWT({
      iss: ES,
      aud: AUD,
      sub: 'erin',
      tid: 'acme',
      iat: T - 10,
      exp: T + 600,
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid })
      .sign(ecKey);
  /** A JWE (RSA-OAEP-256, A256GCM) to ES's `enc-1` carrying `inner` (an ES token by default). */
  const jwe = async (
    inner?: string,
    header: Record<string, unknown> = {},
    key: KeyObject = encryption.publicKey,
  ) =>
    new CompactEncrypt(new TextEncoder().encode(inner ?? (await es({}))))
      .setProtectedHeader({
        alg: 'RSA-OAEP-256',
        enc: 'A256GCM',
        kid: 'enc-1',
        cty: 'JWT',
        ...header,
      })
      .encrypt(key);
  /** A PASETO v4.public token for ES (erin in acme, RFC 3339 times), footer `{"kid":"p-1"}`. */
  const paseto = (
    claims: Record<string, unknown> = {},
    footer = '{"kid":"p-1"}',
    key: KeyObject = pasetoPair.privateKey,
  ) => {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const m = Buffer.from(
      JSON.stringify({
        iss: ES,
        aud: AUD,
        sub: 'erin',
        tid: 'acme',
        iat: iso(T - 10),
        exp: iso(T + 600),
        ...claims,
      }),
    );
    const f = Buffer.from(footer);
    const sig = sign(null, pae(Buffer.from('v4.public.'), m, f, Buffer.alloc(0)), key);
    return `v4.public.${Buffer.concat([m, sig]).toString('base64url')}${f.length ? `.${f.toString('base64url')}` : ''}`;
  };
  /** An RS256 token for DOWN, whose keys cannot be fetched. */
  const down = () =>
    `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: DOWN, aud: AUD, sub: 'x', exp: T + 60 }),
    ).toString('base64url')}.c2ln`;

  /** A fresh world; `tracing` to trace it, `log` to capture its log lines (info and up). */
  async function world(
    options: { tracing?: Tracing; log?: DestinationStream } = {},
  ): Promise<UnitWorld> {
    const clock = new FixedClock(NOW);
    // One store behind both, as in production: the users and the deny-list are one database.
    const db = new InMemoryDatabase(() => clock.now());
    const users = new InMemoryUserRepository(db);
    const revocations = new InMemoryRevocationRepository(db);
    const proofs = new InMemoryProofReplayRepository(db);
    const metrics = new ResolverMetrics(config.issuers.map((i) => i.issuer));
    const caches = new SubjectCaches(config, clock, metrics);
    caches.markCoherent([]);
    const tracing = options.tracing ?? Tracing.OFF;
    const verifier = await TokenVerifier.create(config, clock, undefined, tracing);
    const resolver = new ResolveSubject(
      config,
      verifier,
      users,
      revocations,
      caches,
      metrics,
      clock,
      new ResolverLogger(
        options.log ? pino({ level: 'info' }, options.log) : pino({ level: 'silent' }),
        config.logging,
      ),
      proofs,
      tracing,
    );
    return { config, clock, users, revocations, proofs, caches, metrics, verifier, resolver };
  }

  return {
    config,
    hs,
    es,
    jwe,
    paseto,
    down,
    world,
    introspection,
    cleanup: async () => {
      await introspection.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
