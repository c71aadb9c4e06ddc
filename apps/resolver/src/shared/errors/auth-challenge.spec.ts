import type { ResolverConfig } from '@resolver/config';
import { buildConfig } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { fallbackChallenge, refusalHeaders } from './auth-challenge';

const issuer = (name: string, binding?: Record<string, unknown>) => ({
  issuer: `https://${name}.test/`,
  jwksUri: `https://${name}.test/jwks`,
  audiences: ['api'],
  algorithms: ['ES256'],
  ...(binding ? { binding } : {}),
});
const configOf = (...issuers: unknown[]): ResolverConfig =>
  buildConfig({ database: { url: 'postgres://x/y' }, issuers }, {}, { source: 't', baseDir: '.' });

describe('WWW-Authenticate of a refusal (RFC 6750 §3, RFC 9449 §7.1)', () => {
  it('plain bearer issuers: Bearer only, as before', () => {
    const fallback = fallbackChallenge(configOf(issuer('a')));
    expect(fallback).toEqual({ bearer: true, dpopAlgs: undefined });
    expect(refusalHeaders(new ResolutionError('TOKEN_MISSING'), 'r', fallback)).toEqual({
      'www-authenticate': 'Bearer realm="r"',
    });
    expect(refusalHeaders(new ResolutionError('TOKEN_EXPIRED'), 'r', fallback)).toEqual({
      'www-authenticate': 'Bearer realm="r", error="invalid_token"',
    });
  });

  it('offers both schemes where both are allowed, DPoP with its algs and error codes', () => {
    const config = configOf(
      issuer('a'),
      issuer('b', { mode: 'dpop', dpop: { algorithms: ['ES256', 'EdDSA'] } }),
    );
    const fallback = fallbackChallenge(config);
    expect(refusalHeaders(new ResolutionError('TOKEN_MISSING'), 'r', fallback)).toEqual({
      'www-authenticate': 'Bearer realm="r", DPoP realm="r", algs="ES256 EdDSA"',
    });
    const bound = new ResolutionError('PROOF_INVALID', 'x', {
      challenge: { bearer: false, dpopAlgs: ['ES256'] },
    });
    expect(refusalHeaders(bound, 'r', fallback)).toEqual({
      'www-authenticate': 'DPoP realm="r", error="invalid_dpop_proof", algs="ES256"',
    });
    const mismatch = new ResolutionError('BINDING_MISMATCH', 'x', {
      challenge: { bearer: true, dpopAlgs: ['ES256'] },
    });
    expect(refusalHeaders(mismatch, 'r', fallback)['www-authenticate']).toBe(
      'Bearer realm="r", error="invalid_token", DPoP realm="r", error="invalid_token", algs="ES256"',
    );
  });

  it('only DPoP when every issuer requires it; Retry-After on 503 and nothing else', () => {
    const fallback = fallbackChallenge(
      configOf(issuer('b', { mode: 'dpop', enforcement: 'required' })),
    );
    expect(fallback.bearer).toBe(false);
    expect(
      refusalHeaders(new ResolutionError('TOKEN_MISSING'), 'r', fallback)['www-authenticate'],
    ).toMatch(/^DPoP realm="r", algs="/);
    expect(refusalHeaders(new ResolutionError('USER_STORE_UNAVAILABLE'), 'r', fallback)).toEqual({
      'retry-after': '1',
    });
  });
});
