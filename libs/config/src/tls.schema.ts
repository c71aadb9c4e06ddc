import { z } from 'zod';
import type { Immutable } from './immutable';

/**
 * What callers a client certificate may reach. `forwarded-certificate` is not a route: it is
 * the right to send a forwarded client-certificate header (a gateway telling the resolver which
 * certificate its own client presented), which only a trusted gateway may do.
 */
export const SURFACES = [
  'resolve',
  'authz',
  'forwarded-certificate',
  'diagnose',
  'admin',
  'scim',
  'ssf',
  'console',
  'metrics',
] as const;
export type Surface = (typeof SURFACES)[number];

/** none: no certificate asked; optional: asked, checked when sent; required: no certificate, no connection. */
export const CLIENT_CERTIFICATE_MODES = ['none', 'optional', 'required'] as const;
export type ClientCertificateMode = (typeof CLIENT_CERTIFICATE_MODES)[number];

const file = z.string().min(1);

const listenerFields = {
  /** The serving certificate chain (PEM, leaf first). */
  certFile: file,
  /** Its private key (PEM). */
  keyFile: file,
  /** The CAs client certificates must chain to (PEM bundle); needed to ask for client certificates. */
  caFile: file.optional(),
  clientCertificate: z.enum(CLIENT_CERTIFICATE_MODES).default('none'),
  /** TLS 1.2 at least: older versions are not offered. */
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
};

const needsCa = (
  listener: { clientCertificate: ClientCertificateMode; caFile?: string },
  ctx: z.RefinementCtx,
) => {
  if (listener.clientCertificate !== 'none' && listener.caFile === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['caFile'],
      message: `required when clientCertificate is ${listener.clientCertificate}: the CAs client certificates must chain to`,
    });
};

const grpcTlsSchema = z.strictObject(listenerFields).superRefine(needsCa);
const httpTlsSchema = z
  .strictObject({
    ...listenerFields,
    /** HTTP/2 offered by ALPN next to HTTP/1.1 (gateways and browsers pick; nginx stays on 1.1). */
    http2: z.boolean().default(true),
  })
  .superRefine(needsCa);

/** A subject alternative name as Node and OpenSSL print it: `DNS:…`, `URI:…`, `IP Address:…`, `email:…`. */
const sanSchema = z
  .string()
  .regex(
    /^(DNS|URI|IP Address|email):[^\s,"]+$/,
    'must be DNS:name, URI:uri, IP Address:ip or email:address (no spaces, commas or quotes)',
  );

const callerSchema = z
  .strictObject({
    /** For logs and messages; not matched against the certificate. */
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -'),
    /** Subject attributes that must all be equal, e.g. `{ CN: gateway, O: Example }`. */
    subject: z
      .record(
        z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/, 'must be an attribute name like CN or O'),
        z.string().min(1),
      )
      .optional(),
    /** Any one of these must be among the certificate's subject alternative names. */
    san: z.array(sanSchema).min(1).optional(),
    surfaces: z.array(z.enum(SURFACES)).min(1),
  })
  .superRefine((caller, ctx) => {
    if (
      caller.san === undefined &&
      (caller.subject === undefined || !Object.keys(caller.subject).length)
    )
      ctx.addIssue({
        code: 'custom',
        message: 'name the certificate: subject attributes, san entries, or both',
      });
  });

/** TLS on the listeners, certificate reloading, and which client certificate may call what. */
export const tlsSchema = z
  .strictObject({
    http: httpTlsSchema.optional(),
    grpc: grpcTlsSchema.optional(),
    /** How often the certificate, key and CA files are checked for a change (cert-manager rotation). */
    reloadIntervalMs: z.number().int().min(100).max(3_600_000).default(10_000),
    /**
     * Client-certificate authentication of callers. Empty: any caller the listener lets in may
     * call every surface. Otherwise every surface not in `openSurfaces` is reserved to the callers
     * that list it, on every listener (health, the public JWKS and the OpenAPI document stay open).
     */
    callers: z.array(callerSchema).default([]),
    openSurfaces: z.array(z.enum(SURFACES)).default(['metrics']),
  })
  .superRefine((tls, ctx) => {
    const names = new Set<string>();
    tls.callers.forEach((caller, i) => {
      if (names.has(caller.name))
        ctx.addIssue({
          code: 'custom',
          path: ['callers', i, 'name'],
          message: `duplicate caller ${caller.name}`,
        });
      names.add(caller.name);
    });
    const asks = [tls.http, tls.grpc].some((l) => l && l.clientCertificate !== 'none');
    if (tls.callers.length && !asks)
      ctx.addIssue({
        code: 'custom',
        path: ['callers'],
        message:
          'callers are recognised by their client certificates: set clientCertificate (optional or required) on tls.http or tls.grpc',
      });
  })
  .prefault({});

export type TlsConfig = Immutable<z.output<typeof tlsSchema>>;
export type ListenerTlsConfig = NonNullable<TlsConfig['grpc']>;
export type HttpTlsConfig = NonNullable<TlsConfig['http']>;
export type CallerConfig = TlsConfig['callers'][number];
