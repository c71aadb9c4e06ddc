import { z } from 'zod';
import type { Immutable } from './immutable';
import { ASYMMETRIC_ALGORITHMS } from './algorithms';

/**
 * Which sender bindings an issuer's tokens use: none (bearer), DPoP (RFC 9449, `cnf.jkt`),
 * mTLS (RFC 8705, `cnf["x5t#S256"]`), or either.
 */
export const BINDING_MODES = ['none', 'dpop', 'mtls', 'dpop-or-mtls'] as const;
export type BindingMode = (typeof BINDING_MODES)[number];

/**
 * `required`: a token without a binding the mode names is refused. `when-bound`: an unbound
 * token is accepted as a bearer token. Either way a token that carries `cnf` is checked against
 * its binding: a bound token is never downgraded to bearer.
 */
export const BINDING_ENFORCEMENTS = ['required', 'when-bound'] as const;
export type BindingEnforcement = (typeof BINDING_ENFORCEMENTS)[number];

/** DPoP proofs are signed with an asymmetric key: never `none`, never an HMAC. */
const dpopAlgorithm = z.enum(ASYMMETRIC_ALGORITHMS, {
  error: (issue) =>
    /^(none|hs\d+)$/i.test(String(issue.input))
      ? `${JSON.stringify(issue.input)} is never allowed for DPoP proofs: they are signed with the client's asymmetric key`
      : `unsupported algorithm ${JSON.stringify(issue.input)}; allowed: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
});

const dpopPolicySchema = z
  .strictObject({
    /** The proof algorithms accepted (and announced in `WWW-Authenticate: DPoP algs=`). */
    algorithms: z
      .array(dpopAlgorithm)
      .min(1, 'list at least one proof algorithm')
      .default(['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'EdDSA']),
    /** How old a proof's `iat` may be (RFC 9449 §11.1: a short window). */
    proofMaxAgeSeconds: z.number().int().min(1).max(600).default(60),
    /** Slack for the client's clock, both ways, on the proof's `iat`. */
    clockToleranceSeconds: z.number().int().min(0).max(60).default(5),
    /** The largest proof accepted, in bytes (a proof carries a public key, never a chain). */
    maxProofBytes: z.number().int().min(512).max(16_384).default(4_096),
  })
  .prefault({});
export type DpopPolicy = Immutable<z.output<typeof dpopPolicySchema>>;

/** An issuer's `binding:` block: which bindings, how strictly, and the DPoP proof policy. */
export const bindingPolicySchema = z
  .strictObject({
    mode: z
      .enum(BINDING_MODES, {
        error: `must be one of ${BINDING_MODES.join(', ')}`,
      })
      .default('none'),
    enforcement: z
      .enum(BINDING_ENFORCEMENTS, {
        error: `must be one of ${BINDING_ENFORCEMENTS.join(', ')}`,
      })
      .default('when-bound'),
    dpop: dpopPolicySchema,
  })
  .superRefine((binding, ctx) => {
    if (binding.mode === 'none' && binding.enforcement === 'required')
      ctx.addIssue({
        code: 'custom',
        path: ['enforcement'],
        message: 'required needs a binding mode (dpop, mtls or dpop-or-mtls), not none',
      });
  })
  .prefault({});
export type BindingPolicy = Immutable<z.output<typeof bindingPolicySchema>>;

/** The policy of an issuer that names none: bearer tokens, bound ones still checked. */
export const NO_BINDING: BindingPolicy = bindingPolicySchema.parse({});

/** True when the policy accepts DPoP-bound tokens (and so announces the DPoP scheme). */
export function acceptsDpop(policy: BindingPolicy): boolean {
  return policy.mode === 'dpop' || policy.mode === 'dpop-or-mtls';
}

/** True when the policy accepts certificate-bound tokens. */
export function acceptsMtls(policy: BindingPolicy): boolean {
  return policy.mode === 'mtls' || policy.mode === 'dpop-or-mtls';
}

/** True when an unbound token may still be used as a bearer token. */
export function acceptsBearer(policy: BindingPolicy): boolean {
  return policy.enforcement === 'when-bound' || policy.mode === 'none';
}
