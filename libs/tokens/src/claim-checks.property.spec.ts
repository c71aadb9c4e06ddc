import fc from 'fast-check';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { buildConfig } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import { isResolutionError, type ReasonCode } from '@resolver/reasons';
import { MAX_TIME_SECONDS, MIN_TIME_SECONDS } from './claim-checks';
import { reasonForJoseError } from './jose-errors';
import { TokenVerifier } from './token-verifier';

/**
 * The claim steps are the resolver's own code since verification became named steps. This
 * checks them against what decided before: jose's `jwtVerify` with the same options, plus the
 * date-range rule that ran first on every claim error. Generated payloads mix every time-claim
 * shape (in range, past, future, out of range, non-numeric, absent), audience shapes, `typ`
 * and required claims; each must get the same reason (or pass) both ways.
 */

const NOW = new Date(Date.UTC(2026, 11, 1, 12, 0, 0));
const T = Math.floor(NOW.getTime() / 1000);
const ISS = 'https://claims.unit.test';
const AUD = 'api://claims';
const SECRET = 'claims-property-secret-of-at-least-32-bytes';
const key = new TextEncoder().encode(SECRET);

const config = buildConfig(
  {
    database: { url: 'postgres://unused/unused' },
    logging: { level: 'silent' },
    issuers: [
      {
        issuer: ISS,
        hmacSecretEnv: 'CLAIMS_SECRET',
        algorithms: ['HS256'],
        audiences: [AUD, 'api://second'],
        clockToleranceSeconds: 30,
        requiredClaims: ['exp', 'scope'],
        maxTokenAgeSeconds: 3600,
        typ: 'at+jwt',
      },
    ],
  },
  { CLAIMS_SECRET: SECRET },
  { source: 'unit', baseDir: '.' },
);
const policy = config.issuers[0]!;

/** The decision as it was made before the steps: jose, with the range rule in front of it. */
async function reference(token: string): Promise<ReasonCode | 'OK'> {
  const rangeCheck = (payload: JWTPayload): ReasonCode | undefined => {
    for (const claim of ['exp', 'nbf', 'iat'] as const) {
      const v: unknown = payload[claim];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'CLAIM_INVALID';
      if (v < MIN_TIME_SECONDS || v > MAX_TIME_SECONDS) return 'CLAIM_INVALID';
    }
    if (typeof payload.iat === 'number' && payload.iat > T + policy.clockToleranceSeconds)
      return 'CLAIM_INVALID';
    return undefined;
  };
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ISS,
      audience: [...policy.audiences],
      algorithms: ['HS256'],
      clockTolerance: policy.clockToleranceSeconds,
      requiredClaims: [...policy.requiredClaims],
      currentDate: NOW,
      typ: policy.typ,
      maxTokenAge: policy.maxTokenAgeSeconds,
    });
    return rangeCheck(payload) ?? 'OK';
  } catch (error) {
    const payload = (error as { payload?: JWTPayload }).payload;
    const claimError =
      error instanceof errors.JWTClaimValidationFailed || error instanceof errors.JWTExpired;
    if (claimError && payload) {
      const range = rangeCheck(payload);
      if (range) return range;
    }
    return reasonForJoseError(error);
  }
}

/** Mostly the valid value, so that a token reaches the later checks with one or two faults. */
const usually = <V>(valid: V, other: fc.Arbitrary<unknown>) =>
  fc.oneof({ arbitrary: fc.constant(valid), weight: 3 }, { arbitrary: other, weight: 1 });
const timeValue = (valid: number | undefined) =>
  usually(
    valid,
    fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: -7200, max: 7200 }).map((d) => T + d),
      // The edges: now, the clock tolerance (30 s) and the maximum age (3,600 s), each ±1.
      fc
        .constantFrom(0, 30, 3600, 3630)
        .chain((edge) =>
          fc.constantFrom(
            T + edge - 1,
            T + edge,
            T + edge + 1,
            T - edge - 1,
            T - edge,
            T - edge + 1,
          ),
        ),
      fc.constantFrom(1e308, -1e308, MAX_TIME_SECONDS + 1, MIN_TIME_SECONDS - 1, 0, T + 0.5),
      fc.constantFrom('1700000000', null, true, [T], {}),
    ),
  );
const payload = fc.record({
  iss: fc.constant(ISS),
  sub: fc.constant('someone'),
  aud: usually(
    AUD,
    fc.constantFrom(undefined, 'api://second', 'api://nope', [AUD, 'x'], ['x'], [], 42, null),
  ),
  exp: timeValue(T + 600),
  nbf: timeValue(undefined),
  iat: timeValue(T - 60),
  scope: usually('read', fc.constantFrom(undefined, '')),
});
const typ = usually('at+jwt', fc.constantFrom('application/at+jwt', 'AT+JWT', 'JWT', undefined));

describe('claim steps keep every token its reason (against jose jwtVerify)', () => {
  it('2,000 generated payloads: same reason, or both pass', async () => {
    const verifier = await TokenVerifier.create(config, new FixedClock(NOW));
    await fc.assert(
      fc.asyncProperty(payload, typ, async (claims, headerTyp: unknown) => {
        const body = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
        const token = await new SignJWT(body)
          .setProtectedHeader({
            alg: 'HS256',
            ...(typeof headerTyp === 'string' ? { typ: headerTyp } : {}),
          })
          .sign(key);
        let ours: ReasonCode | 'OK' = 'OK';
        try {
          await verifier.verify(token);
        } catch (error) {
          if (!isResolutionError(error)) throw error;
          ours = error.reason;
        }
        expect({ body, headerTyp, reason: ours }).toEqual({
          body,
          headerTyp,
          reason: await reference(token),
        });
      }),
      { numRuns: 2000 },
    );
  });
});
