import { expectedRefusals } from './token.command';

describe('token refusal warnings', () => {
  const dev = { issuer: 'http://127.0.0.1:8080/dev', audience: 'subject-resolver-dev' };
  const now = 1_800_000_000;
  const good = { iss: dev.issuer, aud: dev.audience, iat: now, exp: now + 3600, sub: 'a' };
  const reasons = (
    payload: Record<string, unknown>,
    signWith: 'dev' | 'none' | 'other-key' = 'dev',
  ) => expectedRefusals(dev, payload, signWith, now).map((r) => r.reason);

  it('says nothing about a token the dev issuer accepts', () => {
    expect(reasons(good)).toEqual([]);
    expect(reasons({ ...good, aud: ['x', dev.audience] })).toEqual([]);
    // Within the 30 s clock tolerance.
    expect(reasons({ ...good, exp: now - 10, nbf: now + 10 })).toEqual([]);
  });

  it('names each refusal, in the order the resolver checks them', () => {
    expect(reasons({ ...good, iss: 'https://other' })).toEqual(['ISSUER_UNKNOWN']);
    expect(reasons(good, 'none')).toEqual(['ALGORITHM_NOT_ALLOWED']);
    expect(reasons(good, 'other-key')).toEqual(['SIGNATURE_INVALID']);
    expect(reasons({ ...good, exp: now - 300 })).toEqual(['TOKEN_EXPIRED']);
    expect(reasons({ ...good, nbf: now + 3600 })).toEqual(['TOKEN_NOT_YET_VALID']);
    expect(reasons({ ...good, iat: now + 3600 })).toEqual(['CLAIM_INVALID']);
    expect(reasons({ ...good, exp: 'tomorrow' })).toEqual(['CLAIM_INVALID']);
    const { exp: _exp, ...noExp } = good;
    expect(reasons(noExp)).toEqual(['CLAIM_INVALID']);
    expect(reasons({ ...good, aud: 'x', exp: now - 300 })).toEqual([
      'AUDIENCE_MISMATCH',
      'TOKEN_EXPIRED',
    ]);
    expect(reasons({ ...good, iss: 'x', aud: 'y' }, 'none')).toEqual([
      'ISSUER_UNKNOWN',
      'ALGORITHM_NOT_ALLOWED',
      'AUDIENCE_MISMATCH',
    ]);
  });
});
