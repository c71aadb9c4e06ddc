import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { compactDecrypt, errors } from 'jose';
import type { DecryptionConfig, IssuerConfig } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { checkJsonStructure, decodeJsonObject, ownData } from '../compact-token';
import { classifyTokenFormat } from './token-format';

/**
 * Encrypted JWTs (JWE compact, RFC 7516), nested per RFC 7519 §5.2: the protected header's `kid`
 * names one configured decryption key, and that key's issuer is the token's issuer (config
 * refuses a kid held by two issuers). A replicated `iss` header (RFC 7519 §5.3), when present,
 * must name the same issuer. The payload must be a signed JWT (`cty: JWT`), verified afterwards
 * by that issuer's own signing keys through the ordinary JWS steps; an unsigned claims set only
 * where the issuer allows it.
 */

/** Where a JWE goes: the issuer and key its header names, with what it asks for. */
export interface JweRoute {
  readonly issuer: string;
  readonly kid: string;
  readonly alg: string;
  readonly enc: string;
  readonly zip?: string;
  /** The protected header, own data only. */
  readonly header: Readonly<Record<string, unknown>>;
}

/** What decryption gave: the nested JWS, or (only where allowed) an unsigned claims set. */
export type JwePayload =
  | { readonly kind: 'jws'; readonly token: string }
  | { readonly kind: 'claims'; readonly claims: Readonly<Record<string, unknown>> };

interface KeyEntry {
  readonly issuer: string;
  readonly key: KeyObject;
  readonly policy: DecryptionConfig;
}

const NESTED_JWT = /^(application\/)?jwt$/i;

export class JweDecryptor {
  private constructor(private readonly byKid: ReadonlyMap<string, KeyEntry>) {}

  /** Parses every configured decryption key; a key that is none stops the boot, naming its field. */
  static create(issuers: readonly IssuerConfig[]): JweDecryptor {
    const byKid = new Map<string, KeyEntry>();
    for (const issuer of issuers) {
      const policy = issuer.decryption;
      if (!policy) continue;
      for (const { kid, material, field } of policy.keys) {
        byKid.set(kid, { issuer: issuer.issuer, key: privateKeyOf(material, field), policy });
      }
    }
    return new JweDecryptor(byKid);
  }

  /** True when some issuer has decryption keys (otherwise every JWE is refused as before). */
  get configured(): boolean {
    return this.byKid.size > 0;
  }

  /**
   * The issuer and key a JWE's protected header names, checked against that issuer's
   * allow-lists before any key is used: TOKEN_MALFORMED (header), DECRYPTION_FAILED (no such
   * kid), ALGORITHM_NOT_ALLOWED (alg or enc not listed).
   */
  route(token: string): JweRoute {
    if (!this.configured)
      throw new ResolutionError(
        'TOKEN_MALFORMED',
        'JWE tokens are not accepted: no issuer has decryption keys',
      );
    const header = decodeJsonObject(token.slice(0, token.indexOf('.')), 'JWE header');
    const { alg, enc, kid, zip, iss } = header;
    if (typeof alg !== 'string' || alg === '' || typeof enc !== 'string' || enc === '')
      throw new ResolutionError('TOKEN_MALFORMED', 'JWE header "alg" and "enc" must be strings');
    if ('crit' in header)
      throw new ResolutionError('TOKEN_MALFORMED', 'header parameter "crit" is not accepted');
    if (typeof kid !== 'string' || kid === '' || kid.length > 256)
      throw new ResolutionError(
        'TOKEN_MALFORMED',
        'JWE header "kid" must name the decryption key (a string of at most 256 characters)',
      );
    const entry = this.byKid.get(kid);
    if (!entry)
      throw new ResolutionError(
        'DECRYPTION_FAILED',
        `no configured issuer has a decryption key with kid ${kid}`,
      );
    if (iss !== undefined && iss !== entry.issuer)
      throw new ResolutionError(
        'CLAIM_INVALID',
        'the JWE header "iss" is not the issuer whose key the "kid" names',
      );
    const policy = entry.policy;
    if (!(policy.keyManagementAlgorithms as readonly string[]).includes(alg))
      throw new ResolutionError(
        'ALGORITHM_NOT_ALLOWED',
        `${alg} is not allowed for ${entry.issuer}`,
      );
    if (!(policy.contentEncryptionAlgorithms as readonly string[]).includes(enc))
      throw new ResolutionError(
        'ALGORITHM_NOT_ALLOWED',
        `${enc} is not allowed for ${entry.issuer}`,
      );
    if (zip !== undefined) {
      if (zip !== 'DEF')
        throw new ResolutionError('TOKEN_MALFORMED', 'JWE header "zip" must be DEF');
      if (!policy.compression.allowed)
        throw new ResolutionError(
          'TOKEN_MALFORMED',
          `compressed JWEs (zip) are not accepted for ${entry.issuer}`,
        );
    }
    return { issuer: entry.issuer, kid, alg, enc, ...(zip ? { zip } : {}), header };
  }

  /**
   * Decrypts with the routed key (jose `compactDecrypt`, restricted to the header's own alg and
   * enc, decompression bounded), then requires a nested JWS unless the issuer allows unsigned
   * claims. DECRYPTION_FAILED when the key does not decrypt it; TOKEN_TOO_LARGE past the
   * decompression bound.
   */
  async decrypt(token: string, route: JweRoute): Promise<JwePayload> {
    const entry = this.byKid.get(route.kid) as KeyEntry;
    const policy = entry.policy;
    let plaintext: Uint8Array;
    try {
      ({ plaintext } = await compactDecrypt(token, entry.key, {
        keyManagementAlgorithms: [route.alg],
        contentEncryptionAlgorithms: [route.enc],
        maxDecompressedLength: policy.compression.allowed
          ? policy.compression.maxDecompressedBytes
          : 0,
      }));
    } catch (error) {
      throw decryptionRefusal(error);
    }
    const cty = route.header.cty;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plaintext);
    } catch {
      throw new ResolutionError('TOKEN_MALFORMED', 'the decrypted payload is not UTF-8');
    }
    if (typeof cty === 'string' && NESTED_JWT.test(cty)) {
      if (classifyTokenFormat(text) !== 'jws')
        throw new ResolutionError('TOKEN_MALFORMED', 'the nested token (cty: JWT) is not a JWS');
      return { kind: 'jws', token: text };
    }
    if (!policy.allowUnsignedPayload)
      throw new ResolutionError(
        'ALGORITHM_NOT_ALLOWED',
        `the encrypted payload is not a signed JWT (cty: JWT); ${route.issuer} does not accept unsigned payloads`,
      );
    return { kind: 'claims', claims: jsonClaims(text) };
  }
}

/** The decrypted claims set of an unsigned payload, as strictly as a JWS payload is read. */
function jsonClaims(text: string): Record<string, unknown> {
  checkJsonStructure(text, 'decrypted payload');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', 'the decrypted payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ResolutionError('TOKEN_MALFORMED', 'the decrypted payload is not a JSON object');
  return ownData(value) as Record<string, unknown>;
}

/** jose's refusal as a reason; never a library message about the key. */
function decryptionRefusal(error: unknown): ResolutionError {
  if (error instanceof errors.JWEInvalid) {
    return /decompress/i.test(error.message)
      ? new ResolutionError('TOKEN_TOO_LARGE', 'the decompressed payload exceeds its bound')
      : new ResolutionError('TOKEN_MALFORMED', `invalid JWE: ${error.message}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new ResolutionError('ALGORITHM_NOT_ALLOWED', 'algorithm not allowed');
  // JWEDecryptionFailed, a key of the wrong type for the algorithm, a WebCrypto failure: the
  // configured key does not decrypt this token.
  return new ResolutionError('DECRYPTION_FAILED', 'the token does not decrypt with its key');
}

/** A private key (PEM) or a JWK (private, or `oct` for dir and AES key wrapping). */
function privateKeyOf(material: string, field: string): KeyObject {
  try {
    if (material.includes('-----BEGIN')) return createPrivateKey(material);
    const jwk = JSON.parse(material) as { kty?: unknown; k?: unknown };
    if (jwk.kty === 'oct' && typeof jwk.k === 'string')
      return createSecretKey(Buffer.from(jwk.k, 'base64url'));
    return createPrivateKey({ key: jwk as never, format: 'jwk' });
  } catch (error) {
    throw new Error(
      `${field}: not a private key (PEM PKCS#8 or a private JWK): ${(error as Error).message}`,
    );
  }
}
