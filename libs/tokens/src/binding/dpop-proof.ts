import { hash } from 'node:crypto';
import type { Algorithm, DpopPolicy } from '@resolver/config';
import { isResolutionError, ResolutionError } from '@resolver/reasons';
import { decodeCompactToken, own } from '../compact-token';
import { keyFits, keyObjectFor, SIGNATURE_SCHEMES, verifySignature } from '../signature';
import { jwkThumbprint } from './jwk-thumbprint';
import { htuForm } from './request-uri';

/** The proof's media type (RFC 9449 §4.2). */
export const DPOP_PROOF_TYP = 'dpop+jwt';

/** JWK members that only a private or secret key has: a proof's `jwk` never carries them. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The longest `jti` remembered for replay (RFC 9449 asks for enough entropy, not a length). */
export const MAX_PROOF_JTI_LENGTH = 256;

/** The request a proof must be for, as the gateway saw it. */
export interface ProofRequest {
  /** The HTTP method (`htm`). */
  readonly method: string;
  /** The absolute request URI (`htu`); its query and fragment are ignored. */
  readonly uri: string;
  /** The access token the request presents (`ath`). */
  readonly accessToken: string;
  /** The token's `cnf.jkt`: the key the proof must be signed with. */
  readonly jkt: string;
}

/** What a valid proof establishes: its replay key and how long it must be remembered. */
export interface ProofFacts {
  readonly jti: string;
  readonly jkt: string;
  readonly iatMs: number;
  /** After this (epoch ms) the proof's `iat` is outside the window: no need to remember it. */
  readonly replayUntilMs: number;
  /** The proof's `nonce`, when it carries one (checked by the caller's nonce policy). */
  readonly nonce?: string;
}

const invalid = (message: string) => new ResolutionError('PROOF_INVALID', `DPoP proof: ${message}`);

/**
 * The checks of RFC 9449 §4.3 on one DPoP proof, in memory, with the issuer's proof policy:
 * one well-formed JWS of bounded size; `typ` dpop+jwt; an allowed asymmetric `alg`; a `jwk`
 * header that is a public key only and verifies the signature; `htm`, `htu` (query and
 * fragment ignored, RFC 3986 normalisation), `iat` within the window, `ath` the access token's
 * hash, a `jti`; and the key's RFC 7638 thumbprint is the token's `cnf.jkt` (BINDING_MISMATCH
 * otherwise). Every refusal is PROOF_INVALID naming what failed; the replay of `jti` is the
 * caller's (it needs the shared store). Members are read as own properties only; never throws
 * anything but a ResolutionError for any input.
 */
export function checkDpopProof(
  proof: string,
  request: ProofRequest,
  policy: DpopPolicy,
  nowMs: number,
): ProofFacts {
  if (proof.length > policy.maxProofBytes)
    throw invalid(`larger than ${policy.maxProofBytes} bytes`);
  if (proof.includes(','))
    throw invalid('more than one DPoP header (RFC 9449 §4.3: exactly one proof)');
  let header: Readonly<Record<string, unknown>>;
  let payload: Readonly<Record<string, unknown>>;
  try {
    ({ header, payload } = decodeCompactToken(proof.trim(), policy.maxProofBytes));
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    throw invalid(`not a well-formed JWS (${error.message})`);
  }
  const typ = own(header, 'typ');
  if (typeof typ !== 'string' || typ.toLowerCase() !== DPOP_PROOF_TYP)
    throw invalid(`typ must be ${DPOP_PROOF_TYP}`);
  const alg = own(header, 'alg');
  if (typeof alg !== 'string' || !(policy.algorithms as readonly string[]).includes(alg))
    throw invalid(
      `alg ${JSON.stringify(typeof alg === 'string' ? alg.slice(0, 16) : alg)} is not allowed (${policy.algorithms.join(' ')})`,
    );
  const jwk = own(header, 'jwk');
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw invalid('the jwk header must be a JSON object (the public key)');
  for (const member of PRIVATE_JWK_MEMBERS)
    if (Object.hasOwn(jwk, member))
      throw invalid(`the jwk header carries the private member "${member}": never a private key`);
  const scheme = SIGNATURE_SCHEMES[alg as Algorithm];
  const key = keyObjectFor(jwk);
  if (!key || key.type !== 'public' || !keyFits(scheme, key))
    throw invalid(`the jwk header is not a public key for ${alg}`);
  const [h, p, s] = proof.trim().split('.') as [string, string, string];
  if (!verifySignature(scheme, key, Buffer.from(`${h}.${p}`), Buffer.from(s, 'base64url')))
    throw invalid('the signature does not verify with the jwk header');

  const jti = own(payload, 'jti');
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_PROOF_JTI_LENGTH)
    throw invalid(`jti must be a string of 1 to ${MAX_PROOF_JTI_LENGTH} characters`);
  const htm = own(payload, 'htm');
  if (typeof htm !== 'string' || htm !== request.method)
    throw invalid(`htm does not match the request method`);
  const htu = own(payload, 'htu');
  const expected = htuForm(request.uri);
  if (expected === undefined)
    throw invalid('the request URI the gateway forwarded is not absolute');
  if (typeof htu !== 'string' || htuForm(htu) !== expected)
    throw invalid('htu does not match the request URI');
  const iat = own(payload, 'iat');
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat must be a number');
  const iatMs = iat * 1000;
  const toleranceMs = policy.clockToleranceSeconds * 1000;
  if (iatMs > nowMs + toleranceMs) throw invalid('iat is in the future');
  const replayUntilMs = iatMs + policy.proofMaxAgeSeconds * 1000 + toleranceMs;
  if (nowMs > replayUntilMs)
    throw invalid(`iat is older than ${policy.proofMaxAgeSeconds} s (the proof window)`);
  const ath = own(payload, 'ath');
  if (typeof ath !== 'string' || ath !== hash('sha256', request.accessToken, 'base64url'))
    throw invalid('ath is not the hash of the access token presented');
  const nonce = own(payload, 'nonce');
  if (nonce !== undefined && typeof nonce !== 'string') throw invalid('nonce must be a string');

  const jkt = jwkThumbprint(jwk as Readonly<Record<string, unknown>>);
  if (jkt !== request.jkt)
    throw new ResolutionError(
      'BINDING_MISMATCH',
      'DPoP proof: signed by a key other than the one the token is bound to (cnf.jkt)',
    );
  return { jti, jkt, iatMs, replayUntilMs, nonce };
}
