import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * How a gateway forwards the certificate its own client presented:
 * - `xfcc`: Envoy's `x-forwarded-client-cert` (`Hash=` hex SHA-256, `Cert=` URL-encoded PEM);
 * - `pem-url`: a URL-encoded PEM (nginx `$ssl_client_escaped_cert`, Envoy's
 *   `%DOWNSTREAM_PEER_CERT%`);
 * - `rfc9440`: the `Client-Cert` header of RFC 9440 (`:base64 DER:`);
 * - `traefik`: Traefik's `passTLSClientCert.pem` (URL-escaped base64 DER, chain comma-separated).
 */
export const FORWARDED_CERTIFICATE_FORMATS = ['xfcc', 'pem-url', 'rfc9440', 'traefik'] as const;
export type ForwardedCertificateFormat = (typeof FORWARDED_CERTIFICATE_FORMATS)[number];

/** The header each format arrives in unless `header` names another. */
export const DEFAULT_FORWARDED_CERTIFICATE_HEADER: Readonly<
  Record<ForwardedCertificateFormat, string>
> = {
  xfcc: 'x-forwarded-client-cert',
  'pem-url': 'x-client-cert',
  rfc9440: 'client-cert',
  traefik: 'x-forwarded-tls-client-cert',
};

/** Headers that carry something else and can never be a forwarded certificate or its secret. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'dpop',
  'host',
  'cookie',
  'content-type',
  'content-length',
  'x-forwarded-for',
  // Never a key of an object built from input.
  '__proto__',
  'constructor',
  'prototype',
]);

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const headerName = z
  .string()
  .regex(
    HEADER_NAME,
    'must be an HTTP header name (letters, digits, - and the other token characters)',
  )
  .transform((name) => name.toLowerCase())
  .refine((name) => !RESERVED_HEADERS.has(name), {
    message: 'names a header that carries something else',
  });

/** An IPv4 or IPv6 address with an optional prefix length: `10.0.0.0/8`, `::1`, `fd00::/8`. */
export function parseCidr(
  text: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const digits = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(digits)) return undefined;
    prefix = Number(digits);
    if (prefix > max) return undefined;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const cidr = z.string().refine((text) => parseCidr(text) !== undefined, {
  message: 'must be an IP address or CIDR block (10.0.0.0/8, fd00::/8, 127.0.0.1)',
});

/**
 * Where the certificate a gateway forwards is read from, and whom the resolver believes about it.
 * A forwarded certificate is a claim: anyone who can reach the resolver could send any
 * certificate (certificates are public), so a forwarded one (the header, ext_authz's
 * `source.certificate`, the `clientCertificate` field of a resolve request) is believed only
 * from a caller the TLS `callers` allow `forwarded-certificate`, from one of `trustedSources`,
 * or with the shared secret in `secretHeader`; from anyone else it is dropped unread.
 */
export const forwardedCertificateSchema = z
  .strictObject({
    /** The header's format; without one no header is read (the request field still is). */
    format: z.enum(FORWARDED_CERTIFICATE_FORMATS).optional(),
    /** The header the gateway sets; by default the one its format is known by. */
    header: headerName.optional(),
    /** The gateways' addresses (the TCP peer the resolver sees), as addresses or CIDR blocks. */
    trustedSources: z.array(cidr).max(256).default([]),
    /** A secret the gateway sends in `secretHeader`, from a variable or a file. */
    sharedSecret: z
      .strictObject({ env: z.string().min(1).optional(), file: z.string().min(1).optional() })
      .refine((s) => (s.env === undefined) !== (s.file === undefined), {
        message: 'set exactly one of env or file',
      })
      .optional(),
    secretHeader: headerName.optional(),
  })
  .superRefine((section, ctx) => {
    if (section.header !== undefined && section.format === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: `required with header: how the certificate is written (${FORWARDED_CERTIFICATE_FORMATS.join(', ')})`,
      });
    if ((section.sharedSecret === undefined) !== (section.secretHeader === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [section.sharedSecret === undefined ? 'sharedSecret' : 'secretHeader'],
        message: 'sharedSecret and secretHeader go together: the secret and the header it comes in',
      });
    const header =
      section.header ??
      (section.format === undefined
        ? undefined
        : DEFAULT_FORWARDED_CERTIFICATE_HEADER[section.format]);
    if (section.secretHeader !== undefined && section.secretHeader === header)
      ctx.addIssue({
        code: 'custom',
        path: ['secretHeader'],
        message: 'must differ from the certificate header',
      });
  })
  .transform(({ header, ...section }) => ({
    ...section,
    header:
      header ??
      (section.format === undefined
        ? undefined
        : DEFAULT_FORWARDED_CERTIFICATE_HEADER[section.format]),
  }));

/** Sender binding settings that are not per issuer. */
export const bindingSchema = z
  .strictObject({
    /** Unset: no forwarded certificate is ever read (the TLS peer's own certificate still is). */
    forwardedCertificate: forwardedCertificateSchema.optional(),
  })
  .prefault({});
