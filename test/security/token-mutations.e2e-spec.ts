import fc from 'fast-check';
import type { Pool } from 'pg';
import { FixedClock } from '@resolver/observability';
import { isReasonCode } from '@resolver/reasons';
import { createTestDatabase, sqlPool } from '../support/database';
import { provisionedRows } from '../support/hostile';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

/**
 * Property: no mutation of a valid token resolves. Bit flips, segment swaps and duplications,
 * truncations, deletions and insertions (of base64url, dots, JSON punctuation or any Unicode)
 * are each answered with exactly one known reason code, identical over HTTP and gRPC, never a
 * success, never a 5xx or INTERNAL, and never provision anything (the issuer has JIT on).
 */

const AUD = 'api://mutation-test';
const NOW = Math.floor(Date.UTC(2026, 10, 23, 12, 0, 0) / 1000);
const ISSUER = 'https://mutation.idp.test';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

type Mutation = (token: string) => string;

/** A position in the token, uniform over its length (fc.double is biased towards 0). */
const position = fc.integer({ min: 0, max: 1_000_000 });
const at = (token: string, where: number) => where % (token.length + 1);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // Flip one bit of one character.
  fc.tuple(position, fc.integer({ min: 0, max: 6 })).map(([where, bit]): Mutation => (t) => {
    const i = Math.min(at(t, where), t.length - 1);
    if (i < 0) return t;
    return t.slice(0, i) + String.fromCharCode(t.charCodeAt(i) ^ (1 << bit)) + t.slice(i + 1);
  }),
  // Replace one character with another base64url character.
  fc.tuple(position, fc.constantFrom(...B64URL)).map(([where, c]): Mutation => (t) => {
    const i = Math.min(at(t, where), t.length - 1);
    return t.slice(0, i) + c + t.slice(i + 1);
  }),
  // Swap two segments.
  fc
    .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }))
    .map(([a, b]): Mutation => (t) => {
      const s = t.split('.');
      if (a >= s.length || b >= s.length) return t;
      [s[a], s[b]] = [s[b] as string, s[a] as string];
      return s.join('.');
    }),
  // Duplicate or drop a segment.
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean()).map(([i, dup]): Mutation => (t) => {
    const s = t.split('.');
    if (i >= s.length) return t;
    if (dup) s.splice(i, 0, s[i] as string);
    else s.splice(i, 1);
    return s.join('.');
  }),
  // Truncate.
  position.map(
    (where): Mutation =>
      (t) =>
        t.slice(0, at(t, where)),
  ),
  // Delete a range.
  fc.tuple(position, fc.integer({ min: 1, max: 40 })).map(([where, n]): Mutation => (t) => {
    const i = at(t, where);
    return t.slice(0, i) + t.slice(i + n);
  }),
  // Insert base64url, structural characters, or arbitrary Unicode.
  fc
    .tuple(
      position,
      fc.oneof(
        fc.string({ unit: fc.constantFrom(...B64URL), minLength: 1, maxLength: 8 }),
        fc.string({
          unit: fc.constantFrom('.', '=', '+', '/', '"', '{', '}', '%'),
          minLength: 1,
          maxLength: 3,
        }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
      ),
    )
    .map(([where, text]): Mutation => (t) => {
      const i = at(t, where);
      return t.slice(0, i) + text + t.slice(i);
    }),
);

describe('random mutations of a valid token (fast-check)', () => {
  let idp: JwksServer;
  let keys: TokenFactory;
  let app: ResolverHarness;
  let db: Pool;
  let valid: string[];

  beforeAll(async () => {
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('mut');
    const jwksUri = idp.publishJwks('mut', keys.publicJwks());
    const databaseUrl = await createTestDatabase('mutation');
    db = sqlPool(databaseUrl);
    app = await ResolverHarness.start({
      databaseUrl,
      clock: new FixedClock(new Date(NOW * 1000)),
      issuers: [
        {
          issuer: ISSUER,
          jwksUri,
          audiences: [AUD],
          algorithms: ['RS256', 'ES256'],
          jit: { enabled: true },
        },
      ],
    });
    valid = [
      await keys.sign(claimsFor(ISSUER, AUD, NOW, { sub: 'mutant' })),
      await keys.sign(claimsFor(ISSUER, AUD, NOW, { sub: 'mutant' }), { key: keys.ec }),
    ];
  });

  afterAll(async () => {
    await app?.close();
    await db?.end();
    await idp?.stop();
  });

  it('the unmutated tokens do resolve (control)', async () => {
    for (const token of valid) expect((await app.resolveHttp({ token })).status).toBe(200);
    // Provisioned once by the control: later row counts must not move.
    expect(await provisionedRows(db)).toEqual({ users: 1, links: 1 });
  });

  it('never resolve, never 5xx/INTERNAL, always one known reason, the same on both transports', async () => {
    const before = await provisionedRows(db);
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (which, mutations) => {
          const original = valid[which] as string;
          const token = mutations.reduce((t, m) => m(t), original);
          // Surrounding whitespace is trimmed by design: such a "mutation" is the same token.
          fc.pre(token.trim() !== original);
          const http = await app.resolveHttp({ body: { token } });
          const grpc = await app.resolveGrpc({ token });
          expect(http.status).toBeGreaterThanOrEqual(400);
          expect(http.status).toBeLessThan(500);
          expect(isReasonCode(http.body?.reason)).toBe(true);
          expect(grpc.ok).toBe(false);
          if (grpc.ok) return;
          expect(grpc.reason).toBe(http.body.reason);
          expect(grpc.code).not.toBe(13); // INTERNAL
          seen.add(http.body.reason as string);
        },
      ),
      { numRuns: 300 },
    );
    expect(await provisionedRows(db)).toEqual(before);
    // The mutations reach past the shape check: signature failures show up, not only TOKEN_MALFORMED.
    expect(seen).toContain('TOKEN_MALFORMED');
    expect(seen).toContain('SIGNATURE_INVALID');
    const metrics = (await app.http('/metrics')).body as string;
    const internal = metrics
      .split('\n')
      .filter((line) => line.startsWith('resolver_internal_errors_total'))
      .map((line) => Number(line.split(' ').pop()));
    expect(internal.reduce((a, b) => a + b, 0)).toBe(0);
  });
});
