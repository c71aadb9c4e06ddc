import { isResolutionError } from '@resolver/reasons';
import { decodeCompactToken, own } from '../compact-token';
import type { IssuerVerifier } from '../issuer-verifier';
import { unavailable } from './introspection-answer';

/** The media type of a JWT-secured introspection answer (RFC 9701 §5). */
export const SIGNED_ANSWER_TYPE = 'application/token-introspection+jwt';

/** Reads a signed answer into the answer object it carries (or throws, never a "yes"). */
export type VerifySignedAnswer = (jwt: string, maxBytes: number) => Promise<unknown>;

/**
 * RFC 9701: the answer is a JWT signed by the issuer, verified with that issuer's own key source
 * and algorithm allow-list exactly as its access tokens are (never a key the answer names); its
 * `typ` is `token-introspection+jwt`, its `iss` the issuer, its `aud` the resolver's client id,
 * and `token_introspection` holds the RFC 7662 answer. Any failure is INTROSPECTION_UNAVAILABLE:
 * an answer that cannot be trusted is no answer, and never the caller's fault.
 */
export function signedAnswerVerifier(issuer: IssuerVerifier, clientId: string): VerifySignedAnswer {
  return async (jwt, maxBytes) => {
    try {
      const decoded = decodeCompactToken(jwt, maxBytes);
      issuer.checkAlgorithm(decoded);
      issuer.checkSignaturePresent(decoded);
      issuer.checkSignature(jwt, decoded, await issuer.candidateKeys(decoded));
      const typ = own(decoded.header, 'typ');
      if (
        typeof typ !== 'string' ||
        typ.toLowerCase().replace(/^application\//, '') !== 'token-introspection+jwt'
      )
        throw unavailable('signed introspection answer: typ is not token-introspection+jwt');
      if (own(decoded.payload, 'iss') !== issuer.config.issuer)
        throw unavailable('signed introspection answer: iss is not the issuer');
      const aud = own(decoded.payload, 'aud');
      if (!(aud === clientId || (Array.isArray(aud) && aud.includes(clientId))))
        throw unavailable("signed introspection answer: aud is not the resolver's client id");
      return own(decoded.payload, 'token_introspection');
    } catch (error) {
      if (isResolutionError(error) && error.reason !== 'INTROSPECTION_UNAVAILABLE')
        throw unavailable(`signed introspection answer: ${error.reason}: ${error.message}`);
      throw error;
    }
  };
}
