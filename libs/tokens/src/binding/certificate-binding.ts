import { createHash, timingSafeEqual } from 'node:crypto';

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

/** One DER tag-length-value: where its content starts and ends, or undefined when malformed. */
function tlv(
  der: Uint8Array,
  at: number,
  end: number,
): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > end) return undefined;
  const tag = der[at] as number;
  const first = der[at + 1] as number;
  let start = at + 2;
  let length = first;
  if (first & 0x80) {
    const bytes = first & 0x7f;
    // DER: the long form only past 127, in as few bytes as it takes (at most 2 here: 64 KiB).
    if (bytes === 0 || bytes > 2 || start + bytes > end || der[start] === 0) return undefined;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + (der[start + i] as number);
    if (length < 128) return undefined;
    start += bytes;
  }
  return start + length > end ? undefined : { tag, start, end: start + length };
}

/**
 * Whether bytes have the shape of one X.509 certificate in DER (RFC 5280 §4.1): a SEQUENCE that
 * fills them exactly, of a tbsCertificate SEQUENCE (starting with its version or serial), an
 * algorithm SEQUENCE and a signature BIT STRING, with minimal length encodings. The contents are
 * not interpreted: the TLS endpoint that received the certificate verified it, and the binding is
 * to these exact bytes (their SHA-256). Parsing them with OpenSSL (`X509Certificate`) would cost
 * some 200 µs per request; this costs well under one.
 */
export function hasCertificateShape(der: Uint8Array): boolean {
  const outer = tlv(der, 0, der.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return false;
  const tbs = tlv(der, outer.start, outer.end);
  if (!tbs || tbs.tag !== 0x30) return false;
  const version = der[tbs.start];
  if (version !== 0xa0 && version !== 0x02) return false;
  const algorithm = tlv(der, tbs.end, outer.end);
  if (!algorithm || algorithm.tag !== 0x30) return false;
  const signature = tlv(der, algorithm.end, outer.end);
  return !!signature && signature.tag === 0x03 && signature.end === outer.end;
}

/**
 * The thumbprint of bytes that must be exactly one DER certificate ({@link hasCertificateShape}:
 * garbage is `not_a_certificate`, not a mismatch, and trailing data cannot give one certificate
 * several thumbprints).
 */
export function readDerCertificate(der: Uint8Array): CertificateReading {
  if (der.length === 0) return refused('empty');
  if (der.length > MAX_CERTIFICATE_DER_BYTES) return refused('too_large');
  if (!hasCertificateShape(der)) return refused('not_a_certificate');
  return { ok: true, thumbprint: x5tS256(der) };
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
