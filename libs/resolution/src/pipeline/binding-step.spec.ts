import { bindingPolicySchema, NO_BINDING } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import type { CachedToken } from '../cache/subject-caches';
import { binding, bindingOf } from './binding-step';
import type { PipelineContext, PipelineEnv } from './context';

const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
const policy = (p: Record<string, unknown>) => bindingPolicySchema.parse(p);

/** A context whose cached token carries `claims`' binding under `p`; no store is reached. */
function ctxFor(
  claims: Record<string, unknown>,
  p = NO_BINDING,
  scheme: PipelineContext['scheme'] = 'bearer',
): PipelineContext {
  const token = { issuer: 'https://idp.test', binding: bindingOf(claims, p) } as CachedToken;
  return { raw: 'a.b.c', hash: 'h', phase: 'request', scheme, token, cached: token };
}

const env = {
  verifier: { issuer: () => undefined },
  nowMs: () => Date.now(),
  rememberProof: () => Promise.reject(new Error('no proof reaches the store in these cases')),
} as unknown as PipelineEnv;

async function outcome(ctx: PipelineContext): Promise<string> {
  if (binding.when && !binding.when(ctx)) return 'skipped';
  try {
    await binding.run(ctx, env);
    return 'OK';
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return error.reason;
  }
}

describe('the binding step: a bound token is never a bearer token', () => {
  it('has nothing to do for a plain bearer token (the warm path skips it too)', async () => {
    expect(bindingOf({ sub: 'a' }, NO_BINDING)).toBeUndefined();
    expect(bindingOf({ sub: 'a' }, policy({ mode: 'dpop' }))).toBeUndefined();
    expect(await outcome(ctxFor({}))).toBe('skipped');
    expect(await outcome(ctxFor({}, policy({ mode: 'dpop' })))).toBe('skipped');
  });

  it('required: an unbound token is refused, cached or not; the DPoP scheme needs a DPoP-bound token', async () => {
    const required = policy({ mode: 'dpop', enforcement: 'required' });
    expect(await outcome(ctxFor({}, required))).toBe('BINDING_MISMATCH');
    expect(await outcome(ctxFor({}, NO_BINDING, 'dpop'))).toBe('BINDING_MISMATCH');
  });

  it('checks cnf whatever the policy: malformed, unknown members, a binding the policy does not name', async () => {
    expect(await outcome(ctxFor({ cnf: 'x' }))).toBe('CLAIM_INVALID');
    expect(await outcome(ctxFor({ cnf: { jkt: 42 } }))).toBe('CLAIM_INVALID');
    expect(await outcome(ctxFor({ cnf: {} }))).toBe('BINDING_MISMATCH');
    expect(await outcome(ctxFor({ cnf: { jwk: { kty: 'EC' } } }))).toBe('BINDING_MISMATCH');
    expect(await outcome(ctxFor({ cnf: { jkt: JKT } }, NO_BINDING, 'bearer'))).toBe(
      'BINDING_MISMATCH',
    );
    const mtlsOnly = policy({ mode: 'mtls', enforcement: 'required' });
    expect(await outcome(ctxFor({ cnf: { jkt: JKT } }, mtlsOnly, 'dpop'))).toBe('BINDING_MISMATCH');
    // A certificate-bound token sent with the DPoP scheme is the wrong binding; sent with no
    // certificate, it lacks its proof: refused either way, never accepted as bearer.
    expect(await outcome(ctxFor({ cnf: { 'x5t#S256': JKT } }, NO_BINDING, 'dpop'))).toBe(
      'BINDING_MISMATCH',
    );
    expect(await outcome(ctxFor({ cnf: { 'x5t#S256': JKT } }))).toBe('PROOF_MISSING');
  });

  it('a DPoP-bound token without its proof, or without the request it was made for', async () => {
    const ctx = ctxFor({ cnf: { jkt: JKT } }, NO_BINDING, 'dpop');
    expect(await outcome(ctx)).toBe('PROOF_MISSING');
    ctx.presented = () => ({ dpop: 'a.b.c' });
    expect(await outcome(ctx)).toBe('PROOF_INVALID');
    ctx.presented = () => ({ dpop: 'a.b.c', method: 'GET' });
    expect(await outcome(ctx)).toBe('PROOF_INVALID');
    ctx.presented = () => ({ dpop: 'a.b.c', method: 'GET', uri: 'https://api.test/' });
    expect(await outcome(ctx)).toBe('PROOF_INVALID');
    // Each refusal carries the challenge of the issuer's policy.
    const refused = await Promise.resolve()
      .then(() => binding.run(ctxFor({ cnf: { jkt: JKT } }, policy({ mode: 'dpop' }), 'dpop'), env))
      .catch((error: unknown) => error);
    expect(isResolutionError(refused) && refused.reason).toBe('PROOF_MISSING');
    expect(isResolutionError(refused) && refused.challenge).toMatchObject({
      bearer: true,
      dpopAlgs: expect.arrayContaining(['ES256']) as unknown,
    });
  });
});
