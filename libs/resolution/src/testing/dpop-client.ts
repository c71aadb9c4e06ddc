import * as DPoP from 'dpop';

/**
 * A DPoP client for the specs, on panva's `dpop` library (never a hand-rolled proof for a valid
 * one): its key pair, the `cnf.jkt` a token bound to it carries, and proofs for requests. The
 * library stamps `iat` from the wall clock, so specs that use it run their clock on real time.
 */
export async function dpopClient(alg: DPoP.JWSAlgorithm = 'ES256') {
  const keypair = await DPoP.generateKeyPair(alg);
  const jkt = await DPoP.calculateThumbprint(keypair.publicKey);
  return {
    keypair,
    jkt,
    /** A proof for `method` `uri`, bound to `accessToken` (ath), with `claims` on top. */
    proof: (
      method: string,
      uri: string,
      accessToken?: string,
      claims?: Record<string, DPoP.JsonValue>,
      nonce?: string,
    ) => DPoP.generateProof(keypair, uri, method, nonce, accessToken, claims),
  };
}
