import { z } from 'zod';
import type { Immutable } from './immutable';

/** A header name the gateways forward: lowercase token characters, not a reserved header. */
const RESERVED_HEADERS = [
  'authorization',
  'host',
  'connection',
  'content-length',
  'content-type',
  'cookie',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'www-authenticate',
];
const headerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lowercase header name (a-z, 0-9, "-")')
  .refine((h) => !RESERVED_HEADERS.includes(h), 'is a reserved HTTP header');

const identityHeadersSchema = z
  .strictObject({
    userId: headerName.default('x-user-id'),
    email: headerName.default('x-user-email'),
    tenant: headerName.default('x-tenant-id'),
    roles: headerName.default('x-user-roles'),
    kind: headerName.default('x-principal-kind'),
  })
  .prefault({});
/** Names of the identity headers the gateway-facing endpoints answer with (lowercase). */
export type IdentityHeaderNames = Immutable<z.output<typeof identityHeadersSchema>>;

const assertionSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    header: headerName.default('x-identity-assertion'),
    /** `iss` of the assertion; the config schema defaults it to `urn:<server.domain>`. */
    issuer: z.string().min(1).optional(),
    /** `aud` of the assertion; required whenever `enabled` (checked below). */
    audience: z.string().min(1).optional(),
    ttlSeconds: z.number().int().min(5).max(3_600).default(60),
    /**
     * ES256 private key (PKCS#8 PEM or private JWK); absent = generated at boot. Made absolute
     * and checked readable by `resolveSecrets`.
     */
    keyFile: z.string().min(1).optional(),
  })
  .prefault({})
  .transform(({ audience, ...assertion }) => ({ ...assertion, audience: audience ?? '' }));

/** The gateway-facing answers: forward-auth (`/v1/authz`) and Envoy ext_authz. */
export const authzSchema = z
  .strictObject({
    headers: identityHeadersSchema,
    /** Whether denials carry the reason code in `reasonHeader` (for the gateway's logs). */
    exposeReasonHeader: z.boolean().default(false),
    reasonHeader: headerName.default('x-auth-reason'),
    assertion: assertionSchema,
  })
  .superRefine((authz, ctx) => {
    const named: [string[], string][] = [
      ...Object.entries(authz.headers).map(([k, v]): [string[], string] => [['headers', k], v]),
      [['reasonHeader'], authz.reasonHeader],
      [['assertion', 'header'], authz.assertion.header],
    ];
    const seen = new Map<string, string>();
    for (const [path, name] of named) {
      const other = seen.get(name);
      if (other !== undefined)
        ctx.addIssue({ code: 'custom', path, message: `same header as ${other}: ${name}` });
      else seen.set(name, path.join('.'));
    }
    if (authz.assertion.enabled && authz.assertion.audience === '') {
      ctx.addIssue({
        code: 'custom',
        path: ['assertion', 'audience'],
        message: 'required when the assertion is enabled: the audience backends check',
      });
    }
  })
  .prefault({});
