import { own } from '../compact-token';

/** The confirmation members the resolver checks (RFC 9449 §6.1, RFC 8705 §3.1). */
export const CONFIRMATION_METHODS = ['jkt', 'x5t#S256'] as const;
export type ConfirmationMethod = (typeof CONFIRMATION_METHODS)[number];

/** A SHA-256 digest in base64url without padding: 43 characters. */
const SHA256_BASE64URL = /^[A-Za-z0-9_-]{43}$/;

/**
 * What a verified token's `cnf` claim binds it to, read from the claims once (when the token is
 * verified) and kept with the cached token, so every request checks the binding without the
 * claims. A token with `cnf` is bound, whatever its members: one the resolver cannot check is
 * refused by the binding step, never treated as bearer.
 */
export interface Confirmation {
  /** `cnf.jkt`: the RFC 7638 thumbprint of the DPoP key (RFC 9449 §6.1). */
  readonly jkt?: string;
  /** `cnf["x5t#S256"]`: the SHA-256 of the client certificate's DER (RFC 8705 §3.1). */
  readonly x5tS256?: string;
  /** Members the resolver has no check for (`jwk`, `kid`, ...), by name. */
  readonly unchecked: readonly string[];
  /** Why the claim cannot be read, naming the member; the binding step refuses with it. */
  readonly invalid?: string;
}

/**
 * The token's confirmation, or `undefined` for a token without `cnf` (a bearer token). Own
 * properties only; never throws: a malformed `cnf` comes back with {@link Confirmation.invalid}
 * set, for the binding step to refuse (CLAIM_INVALID).
 */
export function confirmationOf(
  claims: Readonly<Record<string, unknown>>,
): Confirmation | undefined {
  const cnf = own(claims, 'cnf');
  if (cnf === undefined) return undefined;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf))
    return { unchecked: [], invalid: 'cnf must be a JSON object' };
  const jkt = own(cnf, 'jkt');
  const x5t = own(cnf, 'x5t#S256');
  const unchecked = Object.keys(cnf).filter(
    (name) => !(CONFIRMATION_METHODS as readonly string[]).includes(name),
  );
  const invalid =
    jkt !== undefined && (typeof jkt !== 'string' || !SHA256_BASE64URL.test(jkt))
      ? 'cnf.jkt must be a base64url SHA-256 thumbprint (43 characters)'
      : x5t !== undefined && (typeof x5t !== 'string' || !SHA256_BASE64URL.test(x5t))
        ? 'cnf["x5t#S256"] must be a base64url SHA-256 digest (43 characters)'
        : undefined;
  return {
    jkt: typeof jkt === 'string' ? jkt : undefined,
    x5tS256: typeof x5t === 'string' ? x5t : undefined,
    unchecked: unchecked.slice(0, 8).map((name) => name.slice(0, 32)),
    invalid,
  };
}
