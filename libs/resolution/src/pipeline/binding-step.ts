import {
  acceptsBearer,
  acceptsDpop,
  acceptsMtls,
  type BindingPolicy,
  NO_BINDING,
} from '@resolver/config';
import { type AuthChallenge, type ReasonCode, ResolutionError } from '@resolver/reasons';
import {
  type CertificateRefusal,
  type CertificateSource,
  checkCertificateBinding,
  checkDpopProof,
  type Confirmation,
  type ConfirmationMethod,
  confirmationOf,
  type ProofFacts,
} from '@resolver/tokens';
import type { CredentialScheme } from '../bearer';
import type { CachedToken } from '../cache/subject-caches';
import type { PresentedRequest } from '../resolution';
import type { PipelineContext, PipelineEnv } from './context';
import { issuerPolicy } from './context';
import { defineStep, required } from './step';

/**
 * A verified token's sender binding, kept with the cached token: its confirmation (`cnf`) and its
 * issuer's binding policy. Absent for a token the binding step has nothing to check on (no
 * `cnf`, and an issuer that does not require a binding): the warm path's test for "plain bearer".
 */
export interface TokenBinding {
  readonly confirmation?: Confirmation;
  readonly policy: BindingPolicy;
}

/** The binding of a token just verified, or `undefined` for a plain bearer token. */
export function bindingOf(
  claims: Readonly<Record<string, unknown>>,
  policy: BindingPolicy | undefined,
): TokenBinding | undefined {
  const confirmation = confirmationOf(claims);
  const p = policy ?? NO_BINDING;
  if (!confirmation && p.enforcement !== 'required') return undefined;
  return { confirmation, policy: p };
}

/** What the binding step found, for the diagnosis. */
export interface BindingFindings {
  readonly methods: readonly ConfirmationMethod[];
  readonly policy: BindingPolicy;
  /** The DPoP proof that passed the in-memory checks. */
  proof?: ProofFacts;
  /** What the certificate check compared (thumbprints are not secrets; certificates are not kept). */
  certificate?: CertificateFindings;
}

/** The certificate check's comparison, for the diagnosis. */
export interface CertificateFindings {
  /** Where the certificate came from; absent when none came. */
  readonly source?: CertificateSource;
  /** A forwarded certificate dropped because its sender is not trusted. */
  readonly ignored?: CertificateSource;
  /** `cnf["x5t#S256"]`. */
  readonly expected: string;
  /** The presented certificate's x5t#S256, when it could be read. */
  readonly presented?: string;
  /** Why the presented certificate could not be read. */
  readonly refusal?: CertificateRefusal;
}

/** What each confirmation method's check is given. */
export interface ConfirmationInput {
  readonly confirmation: Confirmation;
  readonly policy: BindingPolicy;
  readonly presented: PresentedRequest;
}

/** One confirmation method's check: throws its refusal; a promise when it asks the store. */
export type ConfirmationCheck = (
  ctx: PipelineContext,
  env: PipelineEnv,
  input: ConfirmationInput,
) => void | Promise<void>;

/** The challenge a binding refusal carries: the schemes the issuer's policy accepts. */
export function challengeOf(policy: BindingPolicy): AuthChallenge {
  return {
    bearer: acceptsBearer(policy),
    dpopAlgs: acceptsDpop(policy) || policy.mode === 'none' ? policy.dpop.algorithms : undefined,
  };
}

export function refuse(
  reason: ReasonCode,
  message: string,
  policy: BindingPolicy,
): ResolutionError {
  return new ResolutionError(reason, message, { challenge: challengeOf(policy) });
}

/** The `DPoP` scheme with a token that is not DPoP-bound (RFC 9449 §7.1). */
function dpopSchemeUnbound(policy: BindingPolicy): ResolutionError {
  return refuse(
    'BINDING_MISMATCH',
    'the DPoP scheme was used with a token that is not DPoP-bound (no cnf.jkt)',
    policy,
  );
}

/**
 * Whether a token goes through the binding step on this request: it is bound (or its issuer
 * requires a binding), or it came with the `DPoP` scheme. The one test both for the step and for
 * the warm path, which answers from memory only a token for which it is false.
 */
export function needsBinding(token: CachedToken | undefined, scheme: CredentialScheme): boolean {
  return token?.binding !== undefined || scheme === 'dpop';
}

/**
 * DPoP (RFC 9449): the `DPoP` scheme (a bound token sent as Bearer is refused, never
 * downgraded), one proof, the method and URI the gateway forwarded, the proof's in-memory checks
 * ({@link checkDpopProof}), then its `(jkt, jti)` remembered in the store every replica shares:
 * a second use anywhere is PROOF_REPLAYED; a store that cannot answer fails closed.
 */
export const checkDpop: ConfirmationCheck = async (
  ctx,
  env,
  { confirmation, policy, presented },
) => {
  const jkt = required(confirmation.jkt);
  if (ctx.scheme === 'bearer')
    throw refuse(
      'BINDING_MISMATCH',
      'a DPoP-bound token (cnf.jkt) was sent with the Bearer scheme: it is never accepted as a bearer token',
      policy,
    );
  const proof = presented.dpop;
  if (proof === undefined || proof.trim() === '')
    throw refuse('PROOF_MISSING', 'a DPoP-bound token needs a DPoP proof header', policy);
  if (!presented.method)
    throw refuse(
      'PROOF_INVALID',
      'the request method was not forwarded (htm cannot be checked)',
      policy,
    );
  if (!presented.uri)
    throw refuse(
      'PROOF_INVALID',
      'the request URI was not forwarded (htu cannot be checked)',
      policy,
    );
  let facts: ProofFacts;
  try {
    facts = checkDpopProof(
      proof,
      { method: presented.method, uri: presented.uri, accessToken: ctx.raw, jkt },
      policy.dpop,
      env.nowMs(),
    );
  } catch (error) {
    if (error instanceof ResolutionError) throw refuse(error.reason, error.message, policy);
    throw error;
  }
  if (ctx.binding) ctx.binding.proof = facts;
  ctx.phase = 'store';
  const first = await env.rememberProof(
    facts.jkt,
    facts.jti,
    facts.replayUntilMs,
    ctx.storeDeadlineAt,
  );
  if (!first)
    throw refuse(
      'PROOF_REPLAYED',
      'this DPoP proof (jti) was already used within its window',
      policy,
    );
};

/**
 * Certificate-bound tokens (RFC 8705 §3): `cnf["x5t#S256"]` against the thumbprint of the client
 * certificate the transport found (the resolver's own TLS peer, ext_authz's source certificate,
 * a trusted gateway's forwarded header, or the trusted request field). No certificate is
 * PROOF_MISSING (a forwarded one from an untrusted sender was dropped, and counts as none), one
 * that cannot be read PROOF_INVALID, another one BINDING_MISMATCH: never a bearer token.
 */
export const checkCertificate: ConfirmationCheck = (
  ctx,
  _env,
  { confirmation, policy, presented },
) => {
  const expected = required(confirmation.x5tS256);
  const certificate = presented.certificate;
  const outcome = checkCertificateBinding(expected, certificate?.reading);
  if (ctx.binding)
    ctx.binding.certificate = {
      source: certificate?.source,
      ignored: presented.certificateIgnored,
      expected,
      presented: outcome.ok || outcome.failure === 'mismatch' ? outcome.thumbprint : undefined,
      refusal: !outcome.ok && outcome.failure === 'invalid' ? outcome.refusal : undefined,
    };
  if (outcome.ok) return;
  const from = certificate ? ` (${certificate.source})` : '';
  switch (outcome.failure) {
    case 'missing':
      throw refuse(
        'PROOF_MISSING',
        presented.certificateIgnored
          ? `a certificate-bound token (cnf["x5t#S256"]) needs its client certificate; the one forwarded (${presented.certificateIgnored}) came from a sender binding.forwardedCertificate does not trust, and was ignored`
          : 'a certificate-bound token (cnf["x5t#S256"]) needs the client certificate it was issued to; none came with the request',
        policy,
      );
    case 'invalid':
      throw refuse(
        'PROOF_INVALID',
        `the client certificate${from} cannot be read: ${outcome.refusal}`,
        policy,
      );
    case 'mismatch':
      throw refuse(
        'BINDING_MISMATCH',
        `the client certificate${from} is not the one the token is bound to (cnf["x5t#S256"])`,
        policy,
      );
  }
};

/** The check of each confirmation method, by its `cnf` member. */
export const CONFIRMATION_CHECKS: Readonly<Record<ConfirmationMethod, ConfirmationCheck>> = {
  jkt: checkDpop,
  'x5t#S256': checkCertificate,
};

/** The confirmation methods a token carries, in the order they are checked. */
export function methodsOf(confirmation: Confirmation): ConfirmationMethod[] {
  const methods: ConfirmationMethod[] = [];
  if (confirmation.x5tS256 !== undefined) methods.push('x5t#S256');
  if (confirmation.jkt !== undefined) methods.push('jkt');
  return methods;
}

const accepts = (policy: BindingPolicy, method: ConfirmationMethod) =>
  method === 'jkt' ? acceptsDpop(policy) : acceptsMtls(policy);

/**
 * Sender binding, on every request (the verified-token cache never skips it): a token with
 * `cnf` is checked by each of its confirmation methods ({@link CONFIRMATION_CHECKS}) whatever
 * its issuer's policy, and a bound token without its proof is refused, never downgraded to
 * bearer; an issuer whose policy is `required` refuses an unbound token; the `DPoP` scheme
 * needs a DPoP-bound token.
 */
export const binding = defineStep(
  'binding',
  'binding',
  (ctx, env) => {
    const token = required(ctx.token);
    const policy = token.binding?.policy ?? issuerPolicy(env, token.issuer)?.binding ?? NO_BINDING;
    const confirmation = token.binding?.confirmation;
    if (!confirmation) {
      ctx.binding = { methods: [], policy };
      if (ctx.scheme === 'dpop') throw dpopSchemeUnbound(policy);
      if (policy.enforcement === 'required')
        throw refuse(
          'BINDING_MISMATCH',
          `the issuer requires sender-bound tokens (${policy.mode}); this token carries no cnf`,
          policy,
        );
      return;
    }
    const methods = methodsOf(confirmation);
    ctx.binding = { methods, policy };
    if (confirmation.invalid)
      throw new ResolutionError('CLAIM_INVALID', confirmation.invalid, {
        challenge: challengeOf(policy),
      });
    if (methods.length === 0)
      throw refuse(
        'BINDING_MISMATCH',
        `cnf carries no confirmation this resolver checks (jkt, x5t#S256)${confirmation.unchecked.length ? `, only ${confirmation.unchecked.join(', ')}` : ''}: a bound token is never accepted as bearer`,
        policy,
      );
    if (policy.enforcement === 'required' && !methods.some((m) => accepts(policy, m)))
      throw refuse(
        'BINDING_MISMATCH',
        `the issuer requires ${policy.mode} binding; this token is bound by ${methods.join(', ')}`,
        policy,
      );
    if (ctx.scheme === 'dpop' && confirmation.jkt === undefined) throw dpopSchemeUnbound(policy);
    const input: ConfirmationInput = { confirmation, policy, presented: ctx.presented?.() ?? {} };
    const pending: Promise<void>[] = [];
    for (const method of methods) {
      const result = CONFIRMATION_CHECKS[method](ctx, env, input);
      if (result) pending.push(result);
    }
    if (pending.length === 0) return;
    return pending.length === 1 ? pending[0] : Promise.all(pending).then(() => undefined);
  },
  {
    stage: 'request',
    // A DPoP proof is remembered in the shared store (replay across replicas).
    store: true,
    // A plain bearer token (no cnf, no required binding) sent as Bearer has nothing to check.
    when: (ctx) => ctx.token !== undefined && needsBinding(ctx.token, ctx.scheme),
  },
);
