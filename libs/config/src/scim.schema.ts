import { z } from 'zod';

const subjectAttribute = z.union(
  [
    z.enum(['externalId', 'userName']),
    z.templateLiteral(['urn:', z.string().regex(/^[A-Za-z0-9:._-]+:[A-Za-z][A-Za-z0-9_-]*$/)]),
  ],
  { error: 'must be externalId, userName, or an extension attribute (urn:...:attribute)' },
);
/** What a SCIM client attribute carries the token subject in. */
export type ScimSubjectAttribute = z.output<typeof subjectAttribute>;

/** One SCIM client (an IdP's provisioning connector): its credential, scope and mappings. */
const scimClientSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a short name (letters, digits, . _ -)'),
    /** sha256 of the bearer credential, hex: the credential itself is never stored. */
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-hex-digit sha256 of the bearer credential')
      .optional(),
    /** Or: the environment variable holding the credential (hashed at boot, not kept). */
    tokenEnv: z.string().min(1).optional(),
    issuer: z.string().min(1, 'must be the "iss" of the tokens these users present'),
    tenant: z.string().max(255).default(''),
    /** Which SCIM attribute carries the subject the issuer puts in its tokens. */
    subjectAttribute: subjectAttribute.default('externalId'),
    /** Group displayName or id -> roles its members get. */
    groupRoles: z
      .record(z.string().min(1).max(255), z.array(z.string().min(1).max(128)).max(100))
      .default({}),
  })
  .refine((c) => (c.tokenSha256 === undefined) !== (c.tokenEnv === undefined), {
    message: 'set exactly one of tokenSha256 or tokenEnv',
  })
  .transform(({ tokenSha256, tokenEnv, ...client }) => ({
    ...client,
    // A credential named by env var is read (and hashed) by `resolveSecrets`.
    credential:
      tokenEnv !== undefined
        ? { kind: 'env' as const, env: tokenEnv }
        : // The refinement allows exactly one of the two, so this one is set.
          {
            kind: 'sha256' as const,
            sha256: new Uint8Array(Buffer.from(tokenSha256 as string, 'hex')),
          },
  }));

const PUBLIC_BASE_URL =
  'must be an absolute http(s) URL with no credentials, query or fragment: the SCIM base URL as IdPs reach it, e.g. https://resolver.example.com/scim/v2';

/**
 * The SCIM base URL as IdPs reach it: `Location` and `meta.location` are built from it instead
 * of from what a request's Host and X-Forwarded-Proto say.
 */
const publicBaseUrl = z
  .string({ error: PUBLIC_BASE_URL })
  .max(2_048, { error: PUBLIC_BASE_URL })
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: PUBLIC_BASE_URL });
      return;
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.username ||
      url.password ||
      url.search ||
      url.hash ||
      value.includes('?') ||
      value.includes('#')
    )
      ctx.addIssue({ code: 'custom', message: PUBLIC_BASE_URL });
  })
  // As the URL parser writes it (host in lower case, default port dropped), without the slash.
  .transform((value) => new URL(value).href.replace(/\/$/, ''));

/** The SCIM 2.0 service provider (`/scim/v2`); off when no client is configured. */
export const scimSchema = z
  .strictObject({
    publicBaseUrl: publicBaseUrl.optional(),
    /** Page size cap for list requests (RFC 7644 maxResults). */
    maxResults: z.number().int().min(1).max(1_000).default(200),
    /** Operations in one PATCH, and values in one multi-valued attribute. */
    maxOperations: z.number().int().min(1).max(1_000).default(100),
    maxMembersPerGroup: z.number().int().min(1).max(100_000).default(10_000),
    clients: z.array(scimClientSchema).default([]),
  })
  .superRefine((scim, ctx) => {
    const ids = new Set<string>();
    const scopes = new Set<string>();
    scim.clients.forEach((c, i) => {
      if (ids.has(c.id))
        ctx.addIssue({ code: 'custom', path: ['clients', i, 'id'], message: 'duplicate id' });
      ids.add(c.id);
      const scope = JSON.stringify([c.issuer, c.tenant]);
      if (scopes.has(scope))
        ctx.addIssue({
          code: 'custom',
          path: ['clients', i, 'tenant'],
          message: 'another client already provisions this issuer and tenant',
        });
      scopes.add(scope);
    });
  })
  .prefault({});
