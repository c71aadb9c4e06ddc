import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompactEncrypt, type CompactJWEHeaderParameters } from 'jose';
import { CompactEncrypt as CompactEncryptV5 } from 'jose-v5';
import { FixedClock } from '@resolver/observability';
import { pae, toPaserk } from '@resolver/tokens';
import vectors from '../../libs/tokens/src/formats/fixtures/paseto-v4-vectors.json';
import { createTestDatabase } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

export const AUD = 'api://formats';
export const NOW = Math.floor(Date.UTC(2026, 11, 7, 12, 0, 0) / 1000);
export const ADMIN_TOKEN = 'formats-admin-secret-0123456789abcdef';
export const ISS = {
  /** JWE with the default allow-lists: RSA (file) and EC (env) decryption keys. */
  a: 'https://a.formats.test',
  /** JWE with `dir` and compression allowed (bounded), and unsigned payloads allowed. */
  b: 'https://b.formats.test',
  /** PASETO v4.public: the official vectors' key (PASERK) and a PEM key, implicit assertion. */
  p: 'https://p.formats.test',
  /** PASETO v4.public: a key of its own. */
  q: 'https://q.formats.test',
};
export const IMPLICIT = 'formats-e2e';

/**
 * The formats suites' world: the real app on an embedded Postgres database, a fixture JWKS for
 * the signing keys, separate decryption keys (an RSA key in a file, an EC key in a variable, an
 * AES key for `dir`), PASETO keys (the official test vectors' Ed25519 key as a PASERK, and a PEM
 * file), a frozen clock, JIT on so every subject resolves.
 */
export class FormatsWorld {
  readonly clock = new FixedClock(new Date(NOW * 1000));
  app!: ResolverHarness;
  idp!: JwksServer;
  signA!: TokenFactory;
  signB!: TokenFactory;
  readonly encA = {
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  };
  readonly encB = { ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }), dir: randomBytes(32) };
  readonly pasetoVector = createPrivateKey(vectors.keys['secret-key-pem']);
  readonly pasetoPem = generateKeyPairSync('ed25519');
  readonly pasetoQ = generateKeyPairSync('ed25519');
  private dir = '';

  async start(name: string): Promise<this> {
    this.idp = await new JwksServer().start();
    this.signA = await TokenFactory.create(`${name}-a`);
    this.signB = await TokenFactory.create(`${name}-b`);
    this.dir = await mkdtemp(join(tmpdir(), 'formats-'));
    const pem = (k: KeyObject, type: 'pkcs8' | 'spki') =>
      k.export({ format: 'pem', type }) as string;
    await writeFile(join(this.dir, 'a-enc-rsa.pem'), pem(this.encA.rsa.privateKey, 'pkcs8'));
    await writeFile(join(this.dir, 'p-pem.pem'), pem(this.pasetoPem.publicKey, 'spki'));
    const base = { audiences: [AUD], algorithms: ['RS256', 'ES256'], jit: { enabled: true } };
    this.app = await ResolverHarness.start({
      databaseUrl: await createTestDatabase(name),
      clock: this.clock,
      env: {
        ADMIN_TOKEN,
        A_ENC_EC: pem(this.encA.ec.privateKey, 'pkcs8'),
        B_ENC_EC: pem(this.encB.ec.privateKey, 'pkcs8'),
        B_DIR: JSON.stringify({ kty: 'oct', k: this.encB.dir.toString('base64url') }),
      },
      issuers: [
        {
          ...base,
          issuer: ISS.a,
          jwksUri: this.idp.publishJwks(`${name}-a`, this.signA.publicJwks()),
          decryption: {
            keys: [
              { kid: 'a-enc-rsa', file: join(this.dir, 'a-enc-rsa.pem') },
              { kid: 'a-enc-ec', env: 'A_ENC_EC' },
            ],
          },
        },
        {
          ...base,
          issuer: ISS.b,
          jwksUri: this.idp.publishJwks(`${name}-b`, this.signB.publicJwks()),
          decryption: {
            keys: [
              { kid: 'b-enc-ec', env: 'B_ENC_EC' },
              { kid: 'b-dir', env: 'B_DIR' },
            ],
            keyManagementAlgorithms: ['ECDH-ES+A256KW', 'dir'],
            contentEncryptionAlgorithms: ['A256GCM'],
            compression: { allowed: true, maxDecompressedBytes: 4096 },
            allowUnsignedPayload: true,
          },
        },
        {
          ...base,
          issuer: ISS.p,
          jwksUri: this.idp.publishJwks(`${name}-p`, this.signA.publicJwks()),
          paseto: {
            keys: [
              {
                kid: 'vectors',
                paserk: toPaserk(createPrivateKey(vectors.keys['secret-key-pem'])),
              },
              { kid: 'p-pem', file: join(this.dir, 'p-pem.pem') },
            ],
            implicitAssertion: IMPLICIT,
          },
        },
        {
          ...base,
          issuer: ISS.q,
          jwksUri: this.idp.publishJwks(`${name}-q`, this.signB.publicJwks()),
          paseto: { keys: [{ kid: 'q-1', paserk: toPaserk(this.pasetoQ.publicKey) }] },
        },
      ],
    });
    return this;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    await this.idp?.stop();
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  claims(issuer: string, overrides: Record<string, unknown> = {}) {
    return claimsFor(issuer, AUD, NOW, overrides);
  }

  /** A JWS of issuer A (or B) signed with its own RS256 key. */
  jws(issuer: string, overrides: Record<string, unknown> = {}): Promise<string> {
    return (issuer === ISS.b ? this.signB : this.signA).sign(this.claims(issuer, overrides));
  }

  /** A compact JWE of `plaintext` with `header`, encrypted to `key` by jose. */
  encrypt(
    plaintext: string | Uint8Array,
    header: CompactJWEHeaderParameters,
    key: KeyObject | Uint8Array,
  ): Promise<string> {
    // jose 6 no longer makes RSA1_5 tokens; jose 5 (the dev dependency) still does.
    if (header.alg === 'RSA1_5')
      return new CompactEncryptV5(
        typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext,
      )
        .setProtectedHeader(header as Parameters<CompactEncryptV5['setProtectedHeader']>[0])
        .encrypt(key);
    return new CompactEncrypt(
      typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext,
    )
      .setProtectedHeader(header)
      .encrypt(key);
  }

  /**
   * A PASETO v4.public token: claims (times as RFC 3339), footer, implicit assertion, signed with
   * `key` (default: the official vectors' key, kid `vectors`, issuer P's assertion).
   */
  paseto(
    claims: Record<string, unknown> | string,
    options: { footer?: string; implicit?: string; key?: KeyObject; header?: string } = {},
  ): string {
    const header = options.header ?? 'v4.public.';
    const m = Buffer.from(typeof claims === 'string' ? claims : JSON.stringify(claims));
    const f = Buffer.from(options.footer ?? '{"kid":"vectors"}');
    const i = Buffer.from(options.implicit ?? IMPLICIT);
    const sig = sign(null, pae(Buffer.from(header), m, f, i), options.key ?? this.pasetoVector);
    const body = Buffer.concat([m, sig]).toString('base64url');
    return `${header}${body}${f.length ? `.${f.toString('base64url')}` : ''}`;
  }

  /** PASETO claims for `issuer` at NOW, times as RFC 3339 strings. */
  pasetoClaims(issuer: string, overrides: Record<string, unknown> = {}) {
    const iso = (s: number) => new Date(s * 1000).toISOString();
    return {
      iss: issuer,
      aud: AUD,
      sub: 'paseto-user',
      iat: iso(NOW - 10),
      exp: iso(NOW + 600),
      ...overrides,
    };
  }

  /** The same token on HTTP /v1/resolve and gRPC ResolveSubject: both answers' reasons. */
  async answers(token: string): Promise<{ http: string; grpc: string; subject?: string }> {
    const http = await this.app.resolveHttp({ token });
    const grpc = await this.app.resolveGrpc({ token });
    return {
      http: http.status === 200 ? 'OK' : String(http.body.reason),
      grpc: grpc.ok ? 'OK' : String(grpc.reason),
      ...(http.status === 200 ? { subject: String(http.body.token.subject) } : {}),
    };
  }

  /** POST /v1/diagnose (admin): the report. */
  async diagnose(token: string) {
    const res = await this.app.http('/v1/diagnose', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(res.status).toBe(200);
    const body = res.body as {
      verdict: { reason: string };
      steps: { step: string; status: string; details: Record<string, unknown>; finding: string }[];
    };
    const step = (name: string) => body.steps.find((s) => s.step === name);
    return { body, verdict: body.verdict.reason, step, text: JSON.stringify(body) };
  }
}
