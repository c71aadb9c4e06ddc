import fc from 'fast-check';
import { ResolutionError } from '@resolver/reasons';
import { checkIntrospectedClaims, readIntrospectionAnswer } from './introspection-answer';

const policy = {
  issuer: 'https://as.example',
  audiences: ['https://api.example'],
  requiredClaims: ['exp'],
  maxTokenAgeSeconds: undefined,
  introspection: undefined,
};
const reason = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ResolutionError) return error.reason;
    throw error;
  }
  return 'OK';
};
const claims = (extra: Record<string, unknown>) => ({
  active: true,
  exp: 2_000_000_000,
  aud: 'https://api.example',
  ...extra,
});

describe('an active introspection answer, checked like a JWT', () => {
  it('iss is optional, but when present must be the issuer asked', () => {
    expect(reason(() => checkIntrospectedClaims(policy, claims({})))).toBe('OK');
    expect(reason(() => checkIntrospectedClaims(policy, claims({ iss: policy.issuer })))).toBe(
      'OK',
    );
    expect(reason(() => checkIntrospectedClaims(policy, claims({ iss: 'https://evil' })))).toBe(
      'ISSUER_UNKNOWN',
    );
  });

  it('aud must be present and accepted; required claims present', () => {
    expect(reason(() => checkIntrospectedClaims(policy, claims({ aud: undefined })))).toBe(
      'AUDIENCE_MISMATCH',
    );
    expect(reason(() => checkIntrospectedClaims(policy, claims({ aud: ['x', 'y'] })))).toBe(
      'AUDIENCE_MISMATCH',
    );
    expect(
      reason(() => checkIntrospectedClaims(policy, claims({ aud: ['x', 'https://api.example'] }))),
    ).toBe('OK');
    expect(reason(() => checkIntrospectedClaims(policy, claims({ exp: undefined })))).toBe(
      'CLAIM_INVALID',
    );
  });

  it('required scopes: all of them, in a space-separated string', () => {
    const scoped = {
      ...policy,
      introspection: { requiredScopes: ['orders:read', 'orders:write'] },
    } as never;
    expect(reason(() => checkIntrospectedClaims(scoped, claims({ scope: 'orders:read' })))).toBe(
      'CLAIM_INVALID',
    );
    expect(
      reason(() =>
        checkIntrospectedClaims(scoped, claims({ scope: 'x orders:write orders:read' })),
      ),
    ).toBe('OK');
    expect(reason(() => checkIntrospectedClaims(scoped, claims({ scope: ['orders:read'] })))).toBe(
      'CLAIM_INVALID',
    );
    expect(reason(() => checkIntrospectedClaims(scoped, claims({})))).toBe('CLAIM_INVALID');
  });
});

describe('readIntrospectionAnswer', () => {
  it('never answers active for anything but a JSON object whose own "active" is true', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        let verdict: ReturnType<typeof readIntrospectionAnswer> | 'unavailable';
        try {
          verdict = readIntrospectionAnswer(text);
        } catch (error) {
          expect((error as ResolutionError).reason).toBe('INTROSPECTION_UNAVAILABLE');
          verdict = 'unavailable';
        }
        const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
        const active = isObject ? (value as Record<string, unknown>).active : undefined;
        if (verdict === 'unavailable') expect(active === true || active === false).toBe(false);
        else expect(verdict.active).toBe(active);
      }),
      { numRuns: 300 },
    );
  });
});
