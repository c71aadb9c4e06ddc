import { z } from 'zod';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS } from './config.types';

const port = z.number().int().min(0).max(65535);
const positiveMs = (max: number) => z.number().int().min(1).max(max);
const algorithm = z.enum([...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS], {
  error: (issue) =>
    String(issue.input).toLowerCase() === 'none'
      ? '"none" is never allowed: unsigned tokens are not tokens'
      : `unsupported algorithm ${JSON.stringify(issue.input)}; allowed: ${[...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS].join(', ')}`,
});
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const logLevel = z.enum(LOG_LEVELS);
const jitTarget = z
  .string()
  .regex(
    /^(email|username|displayName|roles|attributes\.[A-Za-z0-9_.-]{1,64})$/,
    'must be one of email, username, displayName, roles or attributes.<name>',
  );

const issuerSchema = z
  .strictObject({
    issuer: z.string().min(1, 'must be the exact "iss" value of the issuer'),
    discovery: z.boolean().optional(),
    jwksUri: z.url({ protocol: /^https?$/ }).optional(),
    keys: z.array(z.string().min(1)).min(1).optional(),
    hmacSecretEnv: z.string().min(1).optional(),
    hmacSecretFile: z.string().min(1).optional(),
    audiences: z.array(z.string().min(1)).min(1, 'list at least one accepted audience'),
    algorithms: z.array(algorithm).min(1, 'list the allowed algorithms explicitly'),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
    requiredClaims: z.array(z.string().min(1)).default(['exp', 'sub']),
    typ: z
      .string()
      .min(1)
      .regex(/^[\x21-\x7e]+$/, 'must be a media type such as at+jwt')
      .optional(),
    rfc9068: z.boolean().default(false),
    maxTokenAgeSeconds: z.number().int().min(1).max(31_536_000).optional(),
    jwks: z
      .strictObject({
        timeoutMs: positiveMs(30_000).default(2_000),
        cooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
        cacheMaxAgeMs: positiveMs(86_400_000).default(600_000),
        // Stale-if-error bound: how long after the last successful fetch keys may still be used
        // while the IdP cannot be reached.
        maxStaleMs: positiveMs(604_800_000).default(86_400_000),
      })
      .prefault({}),
    subject: z
      .strictObject({
        claim: z.string().min(1).default('sub'),
        lookup: z.enum(['external', 'id', 'email', 'username']).default('external'),
        normalize: z
          .strictObject({
            // Opt-in, ASCII spaces only: any other leading or trailing whitespace is refused.
            trim: z.boolean().default(false),
            // Require NFC (refuse otherwise); false compares non-NFC subjects exactly as sent.
            nfc: z.boolean().default(true),
            lowercase: z.boolean().default(false),
          })
          .prefault({}),
        pattern: z
          .string()
          .refine((p) => {
            try {
              new RegExp(p, 'u');
              return true;
            } catch {
              return false;
            }
          }, 'is not a valid regular expression')
          .optional(),
        maxLength: z.number().int().min(1).max(1024).default(255),
      })
      .prefault({}),
    tenant: z
      .strictObject({ claim: z.string().min(1), required: z.boolean().default(true) })
      .optional(),
    serviceAccounts: z
      .strictObject({
        when: z.strictObject({ claim: z.string().min(1), equals: z.string().min(1) }).optional(),
        subEqualsClientId: z.boolean().default(false),
        clientIdClaim: z.string().min(1).default('client_id'),
        jit: z.boolean().default(false),
      })
      .refine((s) => (s.when !== undefined) !== s.subEqualsClientId, {
        message: 'set exactly one rule: when {claim, equals} or subEqualsClientId: true',
      })
      .optional(),
    jit: z
      .strictObject({
        enabled: z.boolean().default(false),
        requiredClaims: z.array(z.string().min(1)).default([]),
        map: z.record(z.string().min(1), jitTarget).default({}),
        defaultRoles: z.array(z.string().min(1)).default([]),
      })
      .prefault({}),
  })
  .superRefine((issuer, ctx) => {
    const sources = (
      ['discovery', 'jwksUri', 'keys', 'hmacSecretEnv', 'hmacSecretFile'] as const
    ).filter((k) => issuer[k] !== undefined && issuer[k] !== false);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `set exactly one key source (discovery, jwksUri, keys, hmacSecretEnv, hmacSecretFile); found ${sources.length ? sources.join(', ') : 'none'}`,
      });
      return;
    }
    const hmac = sources[0] === 'hmacSecretEnv' || sources[0] === 'hmacSecretFile';
    issuer.algorithms.forEach((alg, i) => {
      const isHmac = (HMAC_ALGORITHMS as readonly string[]).includes(alg);
      if (isHmac !== hmac) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithms', i],
          message: hmac
            ? `${alg} needs an asymmetric key source; an HMAC issuer allows only HS256/HS384/HS512`
            : `${alg} is an HMAC algorithm and is never allowed for an issuer with asymmetric keys (key confusion)`,
        });
      }
    });
    if (issuer.jwks.maxStaleMs < issuer.jwks.cacheMaxAgeMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwks', 'maxStaleMs'],
        message: `must be at least jwks.cacheMaxAgeMs (${issuer.jwks.cacheMaxAgeMs})`,
      });
    }
    if (
      issuer.rfc9068 &&
      issuer.typ !== undefined &&
      issuer.typ.toLowerCase().replace(/^application\//, '') !== 'at+jwt'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['typ'],
        message: 'rfc9068 access tokens have typ at+jwt; remove typ or set it to at+jwt',
      });
    }
    if (issuer.jit.enabled && issuer.subject.lookup === 'id') {
      ctx.addIssue({
        code: 'custom',
        path: ['jit', 'enabled'],
        message:
          'JIT provisioning cannot create users for lookup "id": use external, email or username',
      });
    }
  });

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

const authzSchema = z
  .strictObject({
    headers: z
      .strictObject({
        userId: headerName.default('x-user-id'),
        email: headerName.default('x-user-email'),
        tenant: headerName.default('x-tenant-id'),
        roles: headerName.default('x-user-roles'),
        kind: headerName.default('x-principal-kind'),
      })
      .prefault({}),
    exposeReasonHeader: z.boolean().default(false),
    reasonHeader: headerName.default('x-auth-reason'),
    assertion: z
      .strictObject({
        enabled: z.boolean().default(false),
        header: headerName.default('x-identity-assertion'),
        issuer: z.string().min(1).optional(),
        audience: z.string().min(1).optional(),
        ttlSeconds: z.number().int().min(5).max(3_600).default(60),
        keyFile: z.string().min(1).optional(),
      })
      .prefault({}),
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
    if (authz.assertion.enabled && authz.assertion.audience === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['assertion', 'audience'],
        message: 'required when the assertion is enabled: the audience backends check',
      });
    }
  });

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
    subjectAttribute: z
      .string()
      .regex(
        /^(externalId|userName|urn:[A-Za-z0-9:._-]+:[A-Za-z][A-Za-z0-9_-]*)$/,
        'must be externalId, userName, or an extension attribute (urn:...:attribute)',
      )
      .default('externalId'),
    /** Group displayName or id -> roles its members get. */
    groupRoles: z
      .record(z.string().min(1).max(255), z.array(z.string().min(1).max(128)).max(100))
      .default({}),
  })
  .refine((c) => (c.tokenSha256 === undefined) !== (c.tokenEnv === undefined), {
    message: 'set exactly one of tokenSha256 or tokenEnv',
  });

const scimSchema = z
  .strictObject({
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
  });

/** The YAML file's schema. Unknown fields are errors: a typo must not silently disable a check. */
export const configFileSchema = z.strictObject({
  server: z
    .strictObject({
      httpPort: port.default(8080),
      grpcPort: port.default(50051),
      bindAddress: z.string().min(1).optional(),
      domain: z.string().min(1).default('subject-resolver'),
      bodyLimitBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
      workers: z.number().int().min(0).max(256).default(1),
      /** Upper bound on one resolution; past it the answer is 503, not a hang. */
      requestTimeoutMs: positiveMs(60_000).default(3_000),
      /** After SIGTERM: report not-ready for this long (while still serving) before closing. */
      shutdownDrainMs: z.number().int().min(0).max(300_000).optional(),
      /** Hard bound on the whole shutdown (drain + in-flight + pool); past it the process exits 1. */
      shutdownGraceMs: positiveMs(600_000).default(25_000),
    })
    .prefault({}),
  database: z
    .strictObject({
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
        .optional(),
      poolSize: z.number().int().min(1).max(200).default(10),
      connectTimeoutMs: positiveMs(60_000).default(2_000),
      statementTimeoutMs: positiveMs(60_000).default(2_000),
      retryAttempts: z.number().int().min(0).max(5).default(2),
      retryBackoffMs: z.number().int().min(0).max(5_000).default(50),
      migrationsRun: z.boolean().default(true),
    })
    .prefault({}),
  embedded: z
    .strictObject({
      dataDir: z.string().min(1).default('./.data'),
      port: port.default(54329),
    })
    .prefault({}),
  limits: z
    .strictObject({ maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192) })
    .prefault({}),
  cache: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** 0 = never. Otherwise, while the store is down, users cached before it went down keep resolving this long. */
      serveStaleOnOutageSeconds: z.number().int().min(0).max(3_600).default(0),
      tokens: z
        .strictObject({
          maxEntries: z.number().int().min(0).max(10_000_000).default(10_000),
          maxTtlSeconds: z.number().int().min(1).max(86_400).default(300),
        })
        .prefault({}),
      users: z
        .strictObject({
          // About 1.4 KB of heap per cached user: 20,000 keeps a worker with full default caches
          // within its 250 MB RSS budget (npm run bench, fill phase). A user needs to be cached
          // only while it is active within `ttlSeconds`.
          maxEntries: z.number().int().min(0).max(10_000_000).default(20_000),
          ttlSeconds: z.number().int().min(1).max(86_400).default(60),
        })
        .prefault({}),
      negative: z
        .strictObject({
          maxEntries: z.number().int().min(0).max(10_000_000).default(10_000),
          ttlSeconds: z.number().int().min(1).max(3_600).default(5),
        })
        .prefault({}),
    })
    .prefault({}),
  admin: z
    .strictObject({
      enabled: z.boolean().default(true),
      tokenEnv: z.string().min(1).default('ADMIN_TOKEN'),
      tokenFile: z.string().min(1).optional(),
    })
    .prefault({}),
  authz: authzSchema.prefault({}),
  logging: z
    .strictObject({
      level: logLevel.default('info'),
      /** Log subjects in clear; by default they are logged as a truncated sha256. */
      logSubjects: z.boolean().default(false),
      /** Human-readable lines instead of JSON; default on in embedded mode only. */
      pretty: z.boolean().optional(),
    })
    .prefault({}),
  issuers: z.array(issuerSchema).default([]),
  scim: scimSchema.prefault({}),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
export type IssuerFileEntry = z.infer<typeof issuerSchema>;
