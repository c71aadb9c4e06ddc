import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';

/** A DER certificate larger than this is refused unread: real client certificates are a few KB. */
export const MAX_CERTIFICATE_DER_BYTES = 16_384;

/**
 * Why a presented certificate could not be read. Each names what was wrong with the input;
 * none carries the input itself (a certificate is not secret, but a hostile header could be
 * anything, and a log line is no place for it).
 */
export type CertificateRefusal =
  /** The value is larger than any certificate the resolver reads. */
  | 'too_large'
  /** An empty value where a certificate was expected. */
  | 'empty'
  /** Percent-encoding that does not decode (a lone `%`, invalid UTF-8). */
  | 'not_url_encoded'
  /** Not one PEM `CERTIFICATE` block of strict base64. */
  | 'not_pem'
  /** Not strict base64 (RFC 9440 byte sequence, Traefik's bare base64). */
  | 'not_base64'
  /** Bytes that are not exactly one DER X.509 certificate. */
  | 'not_a_certificate'
  /** An `x-forwarded-client-cert` value that does not follow Envoy's grammar. */
  | 'xfcc_malformed'
  /** The XFCC element carries neither `Hash=` nor `Cert=`. */
  | 'xfcc_no_certificate'
  /** `Hash=` is not 64 hex digits. */
  | 'xfcc_hash_malformed'
  /** `Hash=` is not the SHA-256 of `Cert=`: one of them was altered. */
  | 'xfcc_hash_mismatch';

/** The `x5t#S256` thumbprint of a presented certificate, or why none could be read. */
export type CertificateReading =
  | { readonly ok: true; readonly thumbprint: string }
  | { readonly ok: false; readonly refusal: CertificateRefusal };

/**
 * Where the certificate a token's binding is checked against came from: the resolver's own TLS
 * peer (a backend calling with its own certificate), Envoy ext_authz's
 * `attributes.source.certificate`, a gateway's forwarded-certificate header, or the
 * `clientCertificate` field of a resolve request. Diagnose reports it.
 */
export type CertificateSource =
  'tls-peer' | 'ext-authz-source' | 'forwarded-header' | 'request-field';

/** A client certificate that came with a request, and what reading it gave. */
export interface PresentedCertificate {
  readonly source: CertificateSource;
  readonly reading: CertificateReading;
}

export const refused = (refusal: CertificateRefusal): CertificateReading => ({
  ok: false,
  refusal,
});

/** RFC 8705 §3.1: base64url(SHA-256(DER of the certificate)), unpadded. */
export function x5tS256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** A SHA-256 digest given as hex (XFCC's `Hash=`) as the base64url thumbprint `cnf` holds. */
export function hexDigestToThumbprint(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]{64}$/.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').toString('base64url');
}

/**
 * The thumbprint of bytes that must be exactly one DER certificate: parsed by OpenSSL (so garbage
 * is `not_a_certificate`, not a mismatch), and its re-encoding must be the same bytes, so that
 * trailing data cannot give one certificate several thumbprints.
 */
export function readDerCertificate(der: Uint8Array): CertificateReading {
  if (der.length === 0) return refused('empty');
  if (der.length > MAX_CERTIFICATE_DER_BYTES) return refused('too_large');
  // A DER certificate is a SEQUENCE; anything else is refused before OpenSSL sees it.
  if (der[0] !== 0x30) return refused('not_a_certificate');
  let raw: Buffer;
  try {
    raw = new X509Certificate(der).raw;
  } catch {
    return refused('not_a_certificate');
  }
  if (!raw.equals(der)) return refused('not_a_certificate');
  return { ok: true, thumbprint: x5tS256(raw) };
}

/**
 * Whether two thumbprints are the same, in constant time. Both are 43-character base64url
 * strings (the caller has validated the expected one; the presented one is computed), so the
 * length check reveals nothing a caller does not already know.
 */
export function thumbprintsMatch(expected: string, presented: string): boolean {
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(presented, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** How a certificate-bound token fared against the certificate presented with it. */
export type CertificateBindingOutcome =
  | { readonly ok: true; readonly thumbprint: string }
  /** No certificate came with the request (or only one nobody trusted, which was dropped). */
  | { readonly ok: false; readonly failure: 'missing' }
  /** A certificate came but could not be read. */
  | { readonly ok: false; readonly failure: 'invalid'; readonly refusal: CertificateRefusal }
  /** A certificate came, and it is not the one the token is bound to. */
  | { readonly ok: false; readonly failure: 'mismatch'; readonly thumbprint: string };

/**
 * RFC 8705 §3: a token bound to `expected` is accepted only with the certificate whose
 * thumbprint that is. There is no fallback: without a certificate the token is refused, never
 * treated as a bearer token.
 */
export function checkCertificateBinding(
  expected: string,
  presented: CertificateReading | undefined,
): CertificateBindingOutcome {
  if (presented === undefined) return { ok: false, failure: 'missing' };
  if (!presented.ok) return { ok: false, failure: 'invalid', refusal: presented.refusal };
  return thumbprintsMatch(expected, presented.thumbprint)
    ? { ok: true, thumbprint: presented.thumbprint }
    : { ok: false, failure: 'mismatch', thumbprint: presented.thumbprint };
}
