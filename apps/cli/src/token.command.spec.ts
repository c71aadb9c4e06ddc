import type { ResolverConfig } from '@resolver/config';
import { expectedRefusals, tokenCommand } from './token.command';

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

describe('token --format', () => {
  const config = { mode: 'external' } as unknown as ResolverConfig;
  let stderr: string;
  let spy: jest.SpyInstance;
  beforeEach(() => {
    stderr = '';
    spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
  });
  afterEach(() => spy.mockRestore());

  it('refuses an unknown format and an unsigned PASETO token, naming why (exit 2)', async () => {
    expect(await tokenCommand(['--sub', 'a', '--format', 'jwt5'], config)).toBe(2);
    expect(stderr).toContain('--format must be jws, jwe or paseto, got "jwt5"');
    expect(
      await tokenCommand(['--sub', 'a', '--format', 'paseto', '--sign-with', 'none'], config),
    ).toBe(2);
    expect(stderr).toContain('no PASETO form');
    // A known format gets as far as the mode check (no dev issuer outside embedded mode).
    expect(await tokenCommand(['--sub', 'a', '--format', 'jwe'], config)).toBe(2);
    expect(stderr).toContain('only in embedded mode');
  });
});
