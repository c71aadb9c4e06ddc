import type { Pool } from 'pg';
import { FixedClock } from '@resolver/observability';
import type { ReasonCode } from '@resolver/reasons';
import { createTestDatabase, sqlPool } from './database';
import { expectRefusedOnBothTransports, provisionedRows, signWith } from './hostile';
import { JwksServer } from './jwks-server';
import { ResolverHarness } from './resolver-harness';
import { claimsFor, TokenFactory } from './token-factory';
import { perSuite, type SuiteWorld } from './per-suite';

/*
 * The world of the hostile-token suites (test/security/hostile-tokens/): every crafted token is
 * refused with one exact reason, the same over HTTP and gRPC, and leaves no trace. The attacked
 * issuer (A) has JIT provisioning ON with no required claims, so any token that got through
 * verification and subject mapping would create a user and a link: the row counts before and
 * after each case prove nothing was provisioned. (There is no verified-token or user cache on
 * this branch yet; when one lands, this is where "nothing cached" gets asserted too. Today "no
 * rows" is the whole trace.)
 *
 * Reasons were chosen so each names the first check that refused the token, in the pipeline's
 * order: size/shape -> issuer by exact iss -> alg allow-list -> header policy -> key from the
 * configured source only -> signature -> claims -> subject. See README "Security model".
 * Every suite starts the same world (its own database and servers), and the controls suite
 * proves that this world accepts genuine tokens, so the refusals mean something.
 */

export const AUD = 'api://security-test';
export const NOW = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000);
export const TOL = 30;
export const ISS = {
  a: 'https://a.idp.test', // attacked: RS256 + ES256 via JWKS, JIT on, ASCII subject pattern
  b: 'https://b.idp.test', // another trusted issuer with its own JWKS
  n: 'https://n.idp.test', // A's keys, JIT off, no pattern: look-alike and case-variant subjects
  h: 'https://h.idp.test', // HMAC (HS256) with a strong secret, JIT on
  t: 'https://t.idp.test', // RFC 9068 access tokens (typ at+jwt), maxTokenAgeSeconds 3600, JIT on
};
export const HMAC_SECRET = 'a-strong-shared-secret-of-at-least-32-bytes!';
export const MAX_TOKEN_BYTES = 16_384;

/** One crafted token and the one reason it must be refused with. */
export interface Case {
  readonly family: string;
  readonly name: string;
  readonly reason: ReasonCode;
  readonly make: () => string | Promise<string>;
  /** Tokens larger than an HTTP header comfortably carries go in the JSON body. */
  readonly via?: 'header' | 'body';
}

/** A token with its signature segment replaced. */
export const withSignature = (token: string, signature: Buffer | string) =>
  `${token.split('.').slice(0, 2).join('.')}.${typeof signature === 'string' ? signature : signature.toString('base64url')}`;

/** The claims of a token for `iss` (subject "victim", valid at NOW), with `overrides`. */
export const claims = (iss: string, overrides: Record<string, unknown> = {}) =>
  claimsFor(iss, AUD, NOW, { sub: 'victim', ...overrides });

interface Parts {
  idp: JwksServer;
  attacker: JwksServer;
  keys: TokenFactory;
  other: TokenFactory;
  evil: TokenFactory;
  app: ResolverHarness;
  db: Pool;
}

/**
 * The issuers, keys, servers and resolver every hostile suite attacks. Cases are declared
 * before the world starts, so they reach the keys through it when they are made.
 */
export class HostileWorld implements SuiteWorld {
  /** Filled in as `start` goes, so `close` stops whatever a failed start left running. */
  private readonly parts: Partial<Parts> = {};

  private part<K extends keyof Parts>(name: K): Parts[K] {
    const value = this.parts[name];
    if (value === undefined) throw new Error(`the hostile world has no ${name}: not started`);
    return value;
  }
  /** A's (and N's, T's) keys. */
  get keys(): TokenFactory {
    return this.part('keys');
  }
  /** B's keys. */
  get other(): TokenFactory {
    return this.part('other');
  }
  /** The attacker's own keys. */
  get evil(): TokenFactory {
    return this.part('evil');
  }
  /** The attacker's server: jku / x5u / URL-shaped kids point here, and it must never be asked. */
  get attacker(): JwksServer {
    return this.part('attacker');
  }
  get app(): ResolverHarness {
    return this.part('app');
  }
  get db(): Pool {
    return this.part('db');
  }

  /** A's RSA header, with `extra` on top. */
  header(extra: Record<string, unknown> = {}) {
    return { alg: 'RS256', typ: 'JWT', kid: this.keys.rsa.kid, ...extra };
  }
  /** Signed with A's real RSA key: only the named defect stands between it and a user. */
  genuine(payload: unknown = claims(ISS.a), hdr: Record<string, unknown> = {}): string {
    return signWith(this.keys.rsa, this.header(hdr), payload);
  }
  ecHeader() {
    return { alg: 'ES256', typ: 'JWT', kid: this.keys.ec.kid };
  }
  realEcSignature(): Buffer {
    const token = signWith(this.keys.ec, this.ecHeader(), claims(ISS.a));
    return Buffer.from(token.split('.')[2] as string, 'base64url');
  }
  attackerUrl(path: string): string {
    return `${this.attacker.base}${path}`;
  }

  async start(name: string): Promise<void> {
    const p = this.parts;
    p.idp = await new JwksServer().start();
    p.attacker = await new JwksServer().start();
    p.keys = await TokenFactory.create('sec');
    p.other = await TokenFactory.create('other');
    p.evil = await TokenFactory.create('evil');
    p.attacker.publishJwks('evil', p.evil.publicJwks());
    const jwksA = p.idp.publishJwks('a', p.keys.publicJwks());
    const jwksB = p.idp.publishJwks('b', p.other.publicJwks());
    const databaseUrl = await createTestDatabase(name);
    p.db = sqlPool(databaseUrl);
    const base = { audiences: [AUD], clockToleranceSeconds: TOL };
    const jit = { enabled: true };
    p.app = await ResolverHarness.start({
      databaseUrl,
      clock: new FixedClock(new Date(NOW * 1000)),
      env: { SEC_HMAC_SECRET: HMAC_SECRET },
      config: { limits: { maxTokenBytes: MAX_TOKEN_BYTES } },
      issuers: [
        {
          ...base,
          issuer: ISS.a,
          jwksUri: jwksA,
          algorithms: ['RS256', 'ES256'],
          subject: { pattern: '^[A-Za-z0-9|._@-]+$' },
          jit,
        },
        { ...base, issuer: ISS.b, jwksUri: jwksB, algorithms: ['RS256'], jit },
        { ...base, issuer: ISS.n, jwksUri: jwksA, algorithms: ['RS256'] },
        { ...base, issuer: ISS.h, hmacSecretEnv: 'SEC_HMAC_SECRET', algorithms: ['HS256'], jit },
        {
          ...base,
          issuer: ISS.t,
          jwksUri: jwksA,
          algorithms: ['RS256'],
          rfc9068: true,
          maxTokenAgeSeconds: 3600,
          jit,
        },
      ],
    });
    // The user the look-alike subjects aim at, linked on N.
    const { rows } = await p.db.query<{ id: string }>(
      "INSERT INTO users (username, provenance) VALUES ('admin', 'admin') RETURNING id",
    );
    await p.db.query(
      "INSERT INTO external_identities (issuer, tenant, subject, user_id) VALUES ($1, '', 'admin', $2)",
      [ISS.n, rows[0]?.id],
    );
  }

  async close(): Promise<void> {
    const p = this.parts;
    await p.app?.close();
    await p.db?.end();
    await p.idp?.stop();
    await p.attacker?.stop();
  }
}

export const hostileWorld = (name: string): HostileWorld => perSuite(new HostileWorld(), name);

/** One test per case: refused with its reason on both transports, and nothing provisioned. */
export function itRefusesEach(world: HostileWorld, cases: readonly Case[]): void {
  it.each(cases)('$family: $name -> $reason', async ({ make, reason, via }) => {
    // Tokens are built per case (keys exist only after beforeAll) and never logged.
    const token = await make();
    const before = await provisionedRows(world.db);
    await expectRefusedOnBothTransports(world.app, token, reason, via);
    expect(await provisionedRows(world.db)).toEqual(before);
  });
}
