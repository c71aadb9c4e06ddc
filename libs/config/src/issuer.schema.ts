import { z } from 'zod';
import type { Immutable } from './immutable';
import { ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, RFC9068_REQUIRED_CLAIMS } from './algorithms';
import { type BindingPolicy, bindingPolicySchema } from './binding.schema';

const ALGORITHMS = [...ASYMMETRIC_ALGORITHMS, ...HMAC_ALGORITHMS] as const;
const algorithm = z.enum(ALGORITHMS, {
  error: (issue) =>
    String(issue.input).toLowerCase() === 'none'
      ? '"none" is never allowed: unsigned tokens are not tokens'
      : `unsupported algorithm ${JSON.stringify(issue.input)}; allowed: ${ALGORITHMS.join(', ')}`,
});
const positiveMs = (max: number) => z.number().int().min(1).max(max);

export const jwksPolicySchema = z
  .strictObject({
    timeoutMs: positiveMs(30_000).default(2_000),
    cooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
    cacheMaxAgeMs: positiveMs(86_400_000).default(600_000),
    // Stale-if-error bound: how long after the last successful fetch keys may still be used
    // while the IdP cannot be reached.
    maxStaleMs: positiveMs(604_800_000).default(86_400_000),
  })
  .prefault({});
/** JWKS fetching: timeouts, refetch cooldown, cache age and the stale-if-error bound. */
export type JwksPolicy = Immutable<z.output<typeof jwksPolicySchema>>;

const subjectPolicySchema = z
  .strictObject({
    claim: z.string().min(1).default('sub'),
    lookup: z.enum(['external', 'id', 'email', 'username']).default('external'),
    // Configured folds and checks. Nothing else is ever rewritten: a subject not already
    // canonical is refused (SUBJECT_MALFORMED). The email lookup's own fold (ASCII case) is
    // applied by the lookup, not as `lowercase`: full Unicode lowercasing would merge distinct
    // addresses (U+212A KELVIN SIGN into "k").
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
      .transform((p) => new RegExp(p, 'u'))
      .optional(),
    maxLength: z.number().int().min(1).max(1024).default(255),
  })
  .prefault({});
/** How a verified token's claims become a user lookup key. */
export type SubjectPolicy = Immutable<z.output<typeof subjectPolicySchema>>;
export type LookupStrategy = SubjectPolicy['lookup'];

const tenantPolicySchema = z.strictObject({
  claim: z.string().min(1),
  required: z.boolean().default(true),
});
export type TenantPolicy = Immutable<z.output<typeof tenantPolicySchema>>;

const serviceAccountRuleSchema = z
  .strictObject({
    when: z.strictObject({ claim: z.string().min(1), equals: z.string().min(1) }).optional(),
    subEqualsClientId: z.boolean().default(false),
    clientIdClaim: z.string().min(1).default('client_id'),
    jit: z.boolean().default(false),
  })
  .refine((s) => (s.when !== undefined) !== s.subEqualsClientId, {
    message: 'set exactly one rule: when {claim, equals} or subEqualsClientId: true',
  });
/**
 * Which tokens are machine clients: they resolve to principals of kind `service`, looked up by
 * their client id (claim `clientIdClaim`), provisioned just in time only if `jit` says so.
 */
export type ServiceAccountRule = Immutable<z.output<typeof serviceAccountRuleSchema>>;

const jitTarget = z.union(
  [
    z.enum(['email', 'username', 'displayName', 'roles']),
    z.templateLiteral(['attributes.', z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/)]),
  ],
  { error: 'must be one of email, username, displayName, roles or attributes.<name>' },
);
/** A user field a JIT claim can fill. */
export type JitTarget = z.output<typeof jitTarget>;

const jitPolicySchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    requiredClaims: z.array(z.string().min(1)).default([]),
    map: z.record(z.string().min(1), jitTarget).default({}),
    defaultRoles: z.array(z.string().min(1)).default([]),
  })
  .prefault({});
/** Whether and how users are provisioned just in time from a token's claims. */
export type JitPolicy = Immutable<z.output<typeof jitPolicySchema>>;

/**
 * Where the HMAC secret is read from, resolved after validation by `resolveSecrets` (the only
 * step that reads the environment's secrets and the file system). `field` names the YAML field
 * for its messages.
 */
export type SecretSource =
  | { readonly env: string; readonly field: 'hmacSecretEnv' }
  | { readonly file: string; readonly field: 'hmacSecretFile' };

const KEY_SOURCE_FIELDS = [
  'discovery',
  'jwksUri',
  'keys',
  'hmacSecretEnv',
  'hmacSecretFile',
] as const;

/** One `issuers[]` entry: validated, defaulted, and shaped as the verifier reads it. */
export const issuerSchema = z
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
    /** Required `typ` header (compared as jose does: case-insensitive, `application/` optional). */
    typ: z
      .string()
      .min(1)
      .regex(/^[\x21-\x7e]+$/, 'must be a media type such as at+jwt')
      .optional(),
    /** The RFC 9068 access-token profile: its required claims and typ at+jwt. */
    rfc9068: z.boolean().default(false),
    /** Tokens whose `iat` is older than this are refused (TOKEN_EXPIRED); `iat` becomes required. */
    maxTokenAgeSeconds: z.number().int().min(1).max(31_536_000).optional(),
    jwks: jwksPolicySchema,
    subject: subjectPolicySchema,
    tenant: tenantPolicySchema.optional(),
    serviceAccounts: serviceAccountRuleSchema.optional(),
    jit: jitPolicySchema,
    /** Sender-constrained tokens: DPoP (RFC 9449) and certificate-bound (RFC 8705). */
    binding: bindingPolicySchema,
  })
  .superRefine((issuer, ctx) => {
    const sources = KEY_SOURCE_FIELDS.filter((k) => issuer[k] !== undefined && issuer[k] !== false);
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: `set exactly one key source (${KEY_SOURCE_FIELDS.join(', ')}); found ${sources.length ? sources.join(', ') : 'none'}`,
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
  })
  .transform(
    ({ discovery, jwksUri, keys, hmacSecretEnv, hmacSecretFile, rfc9068, binding, ...entry }) => {
      // The RFC 9068 profile requires its claims and the at+jwt type on top of the issuer's own.
      const required = new Set([
        ...entry.requiredClaims,
        ...(rfc9068 ? RFC9068_REQUIRED_CLAIMS : []),
      ]);
      // Present even when undefined (a stable shape), optional in the type so that an issuer
      // built in code (the dev issuer) need not name them.
      const optional: { typ?: string; maxTokenAgeSeconds?: number; binding?: BindingPolicy } = {
        typ: entry.typ ?? (rfc9068 ? 'at+jwt' : undefined),
        maxTokenAgeSeconds: entry.maxTokenAgeSeconds,
        binding,
      };
      return {
        ...entry,
        ...optional,
        keySource: keySourceOf({ discovery, jwksUri, keys, hmacSecretEnv, hmacSecretFile }),
        // The subject claim is checked by the subject mapper with its own reasons, not by jose.
        requiredClaims: [...required].filter((c) => c !== entry.subject.claim),
      };
    },
  );

/**
 * The one key source the refinement above allows, as the verifier names it. Key file paths stay
 * as written here: `resolveSecrets` resolves them against the config file's directory and checks
 * that they can be read.
 */
function keySourceOf(fields: {
  discovery?: boolean;
  jwksUri?: string;
  keys?: string[];
  hmacSecretEnv?: string;
  hmacSecretFile?: string;
}) {
  if (fields.discovery) return { kind: 'discovery' as const };
  if (fields.jwksUri !== undefined) return { kind: 'jwks' as const, uri: fields.jwksUri };
  if (fields.keys !== undefined) return { kind: 'files' as const, paths: fields.keys };
  const secret: SecretSource =
    fields.hmacSecretEnv !== undefined
      ? { env: fields.hmacSecretEnv, field: 'hmacSecretEnv' }
      : // The refinement allows exactly one source, so this one is set.
        { file: fields.hmacSecretFile as string, field: 'hmacSecretFile' };
  return { kind: 'hmac' as const, secret };
}
