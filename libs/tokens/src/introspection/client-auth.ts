import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import type { IntrospectionClientAuth } from '@resolver/config';

/** What one introspection request carries besides the token: headers and form fields. */
export interface AuthenticatedRequest {
  readonly headers: Record<string, string>;
  readonly form: Record<string, string>;
}

/** Authenticates the resolver, as the issuer's client, on each introspection request. */
export interface ClientAuthenticator {
  /** How it authenticates, for messages: `client_secret_basic as rs-1` (never a secret). */
  readonly describe: string;
  /** The headers and form fields of one request to `endpoint`. */
  request(endpoint: string, nowSeconds: number): Promise<AuthenticatedRequest>;
}

/** RFC 6749 §2.3.1: the client id and secret are form-urlencoded before they are joined. */
function basicCredentials(id: string, secret: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64');
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A client assertion is good for this long: one request, with some clock skew. */
const ASSERTION_LIFETIME_SECONDS = 60;

/**
 * The authenticator of one issuer's client: `client_secret_basic` (RFC 6749 §2.3.1),
 * `client_secret_post`, or `private_key_jwt` (RFC 7523 §2.2: a fresh assertion per request,
 * `aud` the endpoint, a new `jti` each time). The private key is read now, so a key file that is
 * not a private key stops the boot.
 */
export async function clientAuthenticator(
  auth: IntrospectionClientAuth,
  origin: string,
): Promise<ClientAuthenticator> {
  const describe = `${auth.method} as ${auth.clientId}`;
  switch (auth.method) {
    case 'client_secret_basic': {
      const authorization = `Basic ${basicCredentials(auth.clientId, auth.secret)}`;
      return {
        describe,
        request: () => Promise.resolve({ headers: { authorization }, form: {} }),
      };
    }
    case 'client_secret_post': {
      const form = { client_id: auth.clientId, client_secret: auth.secret };
      return { describe, request: () => Promise.resolve({ headers: {}, form }) };
    }
    case 'private_key_jwt': {
      const key = await readPrivateKey(auth.privateKeyFile, origin);
      return {
        describe,
        async request(endpoint, now) {
          const assertion = await new SignJWT({})
            .setProtectedHeader({ alg: auth.algorithm, ...(auth.keyId ? { kid: auth.keyId } : {}) })
            .setIssuer(auth.clientId)
            .setSubject(auth.clientId)
            .setAudience(endpoint)
            .setJti(randomUUID())
            .setIssuedAt(now)
            .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
            .sign(key);
          return {
            headers: {},
            form: {
              client_id: auth.clientId,
              client_assertion_type: ASSERTION_TYPE,
              client_assertion: assertion,
            },
          };
        },
      };
    }
  }
}

/** A PKCS#8 / SEC1 / PKCS#1 PEM or a private JWK file, as a private KeyObject. */
async function readPrivateKey(path: string, origin: string): Promise<KeyObject> {
  const field = `${origin}.introspection.clientAuth.privateKeyFile`;
  const text = await readFile(path, 'utf8');
  try {
    if (text.includes('-----BEGIN')) return createPrivateKey(text);
    const jwk = JSON.parse(text) as Record<string, unknown>;
    if (typeof jwk.d !== 'string') throw new Error('the JWK holds no private key ("d")');
    return createPrivateKey({ key: jwk as never, format: 'jwk' });
  } catch (error) {
    throw new Error(`${field} (${path}): not a private key: ${(error as Error).message}`);
  }
}
