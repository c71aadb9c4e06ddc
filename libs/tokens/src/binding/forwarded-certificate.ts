import type { ForwardedCertificateFormat } from '@resolver/config';
import {
  type CertificateReading,
  hexDigestToThumbprint,
  readDerCertificate,
  refused,
} from './certificate-binding';

/**
 * A forwarded value longer than this is refused unread. One URL-encoded PEM certificate is 2–6 KB;
 * an XFCC value with a `Chain=` a few times that. (Node's HTTP parser stops headers at 16 KiB
 * anyway; an ext_authz CheckRequest or a request body has no such bound of its own.)
 */
export const MAX_FORWARDED_CERTIFICATE_CHARS = 32_768;

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';
/** Strict, padded base64 (RFC 4648 §4): what PEM bodies, RFC 9440 and Traefik carry. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodePercent(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Strict base64 to bytes: the alphabet, the padding, and no unused bits set (decoders drop them,
 * which would give one certificate several spellings).
 */
function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** One PEM `CERTIFICATE` block (and nothing else but surrounding whitespace) as a reading. */
export function readPem(text: string): CertificateReading {
  if (text.length > MAX_FORWARDED_CERTIFICATE_CHARS) return refused('too_large');
  const pem = text.trim();
  if (pem === '') return refused('empty');
  if (!pem.startsWith(BEGIN) || !pem.endsWith(END)) return refused('not_pem');
  const body = pem.slice(BEGIN.length, pem.length - END.length);
  // A second block inside would otherwise be read as base64 garbage; say what it is.
  if (body.includes('-----')) return refused('not_pem');
  const der = decodeBase64(body.replace(/[ \t\r\n]+/g, ''));
  return der ? readDerCertificate(der) : refused('not_pem');
}

/**
 * A URL-encoded PEM certificate: nginx's `$ssl_client_escaped_cert`, Envoy's
 * `attributes.source.certificate` (ext_authz with `include_peer_certificate`) and XFCC's `Cert=`.
 */
export function readUrlEncodedPem(value: string): CertificateReading {
  if (value.length > MAX_FORWARDED_CERTIFICATE_CHARS) return refused('too_large');
  if (value.trim() === '') return refused('empty');
  const text = decodePercent(value);
  return text === undefined ? refused('not_url_encoded') : readPem(text);
}

/** RFC 9440 §2.2: `Client-Cert` is a structured-field byte sequence, `:` base64 DER `:`. */
export function readRfc9440(value: string): CertificateReading {
  if (value.length > MAX_FORWARDED_CERTIFICATE_CHARS) return refused('too_large');
  const field = value.trim();
  if (field === '') return refused('empty');
  if (field.length < 2 || !field.startsWith(':') || !field.endsWith(':'))
    return refused('not_base64');
  const der = decodeBase64(field.slice(1, -1));
  return der ? readDerCertificate(der) : refused('not_base64');
}

/**
 * Traefik's `passTLSClientCert: {pem: true}`: each certificate's PEM body (base64 DER without
 * the BEGIN/END lines and newlines), comma-separated leaf first, then URL-escaped.
 */
export function readTraefik(value: string): CertificateReading {
  if (value.length > MAX_FORWARDED_CERTIFICATE_CHARS) return refused('too_large');
  if (value.trim() === '') return refused('empty');
  const text = decodePercent(value);
  if (text === undefined) return refused('not_url_encoded');
  const leaf = text.split(',', 1)[0] ?? '';
  const der = decodeBase64(leaf.trim());
  return der ? readDerCertificate(der) : refused('not_base64');
}

/** One XFCC element: its `key=value` pairs in order, keys lowercased. */
export type XfccElement = readonly (readonly [key: string, value: string])[];

const XFCC_KEY = /^[A-Za-z]+$/;

/**
 * Envoy's `x-forwarded-client-cert` grammar: elements separated by `,`, each a list of
 * `key=value` pairs separated by `;`; a value holding `,`, `;` or `=` is double-quoted, with `\"`
 * for a quote inside. Whitespace is allowed around an element (a proxy that joins two header
 * lines writes `, `). Anything else — an unterminated quote, text after a closing quote, a pair
 * without `=`, an empty element — makes the whole value undefined: a value that cannot be read
 * unambiguously is not read at all.
 */
export function parseXfcc(value: string): XfccElement[] | undefined {
  if (value.length > MAX_FORWARDED_CERTIFICATE_CHARS) return undefined;
  const elements: XfccElement[] = [];
  let pairs: [string, string][] = [];
  let key = '';
  let text = '';
  let mode: 'key' | 'value' | 'quoted' | 'closed' = 'key';
  const endPair = (): boolean => {
    const name = key.trim();
    if (mode === 'key' || !XFCC_KEY.test(name)) return false;
    pairs.push([name.toLowerCase(), text]);
    key = '';
    text = '';
    mode = 'key';
    return true;
  };
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (mode === 'quoted') {
      // The run up to the next quote or backslash in one slice (a Cert= value is kilobytes).
      let end = i;
      while (end < value.length && value[end] !== '"' && value[end] !== '\\') end++;
      text += value.slice(i, end);
      if (end >= value.length) return undefined;
      if (value[end] === '\\') {
        if (end + 1 >= value.length) return undefined;
        text += value[end + 1];
        i = end + 1;
      } else {
        mode = 'closed';
        i = end;
      }
      continue;
    }
    if (c === ';' || c === ',') {
      if (!endPair()) return undefined;
      if (c === ',') {
        elements.push(pairs);
        pairs = [];
      }
      continue;
    }
    if (mode === 'key') {
      if (c === '=') mode = 'value';
      else key += c;
    } else if (mode === 'value') {
      if (c === '"' && text === '') mode = 'quoted';
      else if (c === '"' || c === '=') return undefined;
      else text += c;
    } else if (c !== ' ' && c !== '\t') {
      // Only whitespace may follow a closing quote before the next separator.
      return undefined;
    }
  }
  if (mode === 'quoted' || !endPair()) return undefined;
  elements.push(pairs);
  return elements;
}

/** Keys that must appear at most once in an element (another copy would be a second answer). */
const SINGLE_KEYS = ['hash', 'cert', 'chain', 'by'];

/**
 * The certificate in an `x-forwarded-client-cert` value: from its **last** element. Each proxy
 * that forwards the header (`APPEND_FORWARD`) appends one element for the client that connected
 * to it, so the last element is the one the gateway in front of the resolver wrote about its own
 * client; any earlier one was written by a proxy further out, or by the client itself, and no
 * one the resolver trusts checked it. (With `SANITIZE_SET` there is only one element.)
 *
 * `Hash=` is the hex SHA-256 of the DER, converted to base64url to compare with `cnf`. `Cert=` is
 * the URL-encoded PEM; when both are there they must agree, or the value was tampered with.
 */
export function readXfcc(value: string): CertificateReading {
  if (value.length > MAX_FORWARDED_CERTIFICATE_CHARS) return refused('too_large');
  if (value.trim() === '') return refused('empty');
  const elements = parseXfcc(value);
  const last = elements?.[elements.length - 1];
  if (!last) return refused('xfcc_malformed');
  for (const name of SINGLE_KEYS)
    if (last.filter(([k]) => k === name).length > 1) return refused('xfcc_malformed');
  const hash = last.find(([k]) => k === 'hash')?.[1];
  const cert = last.find(([k]) => k === 'cert')?.[1];
  const hashed = hash === undefined ? undefined : hexDigestToThumbprint(hash);
  if (hash !== undefined && hashed === undefined) return refused('xfcc_hash_malformed');
  if (cert === undefined)
    return hashed === undefined ? refused('xfcc_no_certificate') : { ok: true, thumbprint: hashed };
  const reading = readUrlEncodedPem(cert);
  if (reading.ok && hashed !== undefined && hashed !== reading.thumbprint)
    return refused('xfcc_hash_mismatch');
  return reading;
}

/** The certificate a gateway forwarded in the configured format. */
export function readForwardedCertificate(
  format: ForwardedCertificateFormat,
  value: string,
): CertificateReading {
  switch (format) {
    case 'xfcc':
      return readXfcc(value);
    case 'pem-url':
      return readUrlEncodedPem(value);
    case 'rfc9440':
      return readRfc9440(value);
    case 'traefik':
      return readTraefik(value);
  }
}
