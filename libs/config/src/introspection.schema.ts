import { z } from 'zod';
import type { Immutable } from './immutable';

/**
 * Opaque tokens (RFC 7662): how the resolver asks an issuer's introspection endpoint about a
 * token that is neither a JWS nor another format it reads itself. Nothing is ever sent to an
 * endpoint other than the one configured here (or named by this issuer's own discovery
 * document), and only with this issuer's client credentials.
 */

const clientId = z.string().min(1, 'the client id the resolver authenticates as at the endpoint');

/** A client secret, read by `resolveSecrets` from a variable or a file (never written inline). */
const secretFields = {
  clientSecretEnv: z.string().min(1).optional(),
  clientSecretFile: z.string().min(1).optional(),
};

/** The private_key_jwt assertion's algorithms (RFC 7523): asymmetric only. */
export const CLIENT_ASSERTION_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'EdDSA',
] as const;
export type ClientAssertionAlgorithm = (typeof CLIENT_ASSERTION_ALGORITHMS)[number];

const clientAuthSchema = z.discriminatedUnion(
  'method',
  [
    z.strictObject({ method: z.literal('client_secret_basic'), clientId, ...secretFields }),
    z.strictObject({ method: z.literal('client_secret_post'), clientId, ...secretFields }),
    z.strictObject({
      method: z.literal('private_key_jwt'),
      clientId,
      /** PKCS#8 PEM or a private JWK; made absolute and read by `resolveSecrets`. */
      privateKeyFile: z.string().min(1),
      algorithm: z.enum(CLIENT_ASSERTION_ALGORITHMS).default('ES256'),
      /** `kid` of the assertion header, when the AS selects the client's key by it. */
      keyId: z.string().min(1).max(256).optional(),
    }),
  ],
  {
    error: () => 'method must be client_secret_basic, client_secret_post or private_key_jwt',
  },
);

/** A prefix is printable ASCII without a dot: a dot is the separator of JWS, JWE and PASETO. */
const PREFIX = /^[\x21-\x2d\x2f-\x7e]{1,64}$/;

export const introspectionSchema = z
  .strictObject({
    /** The endpoint; absent: `introspection_endpoint` of the issuer's OIDC discovery document. */
    endpoint: z.url({ protocol: /^https?$/ }).optional(),
    clientAuth: clientAuthSchema,
    /** RFC 7662 §2.1 `token_type_hint`; absent: none is sent. */
    tokenTypeHint: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a token type such as access_token')
      .optional(),
    /**
     * Which opaque tokens are this issuer's: those that start with this prefix. Required when
     * more than one issuer introspects (see the issuers[] rule), never a guess.
     */
    prefix: z
      .string()
      .regex(PREFIX, 'must be 1 to 64 printable ASCII characters, without "." or spaces')
      .optional(),
    /** Scopes an active token must carry (all of them), checked on every answer, cached or not. */
    requiredScopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).default([]),
    /** An active answer is used at most this long (and never past the token's `exp`). */
    cacheCapSeconds: z.number().int().min(0).max(3_600).default(60),
    /** An `active: false` answer is remembered this long (a flood of bad tokens asks once each). */
    negativeCacheSeconds: z.number().int().min(0).max(300).default(5),
    /** One introspection request's bound (connect, send, answer). */
    timeoutMs: z.number().int().min(50).max(30_000).default(2_000),
    /** At most this many requests to the endpoint at once; more wait, within the timeout. */
    maxConcurrent: z.number().int().min(1).max(1_024).default(32),
    /**
     * RFC 9701: ask for JWT-secured answers (`application/token-introspection+jwt`) and read
     * only those, verified with this issuer's key source and algorithms.
     */
    signedResponses: z.boolean().default(false),
    /** The largest answer read; a larger one is a failing endpoint. */
    maxResponseBytes: z.number().int().min(1_024).max(1_048_576).default(65_536),
  })
  .superRefine((section, ctx) => {
    const auth = section.clientAuth;
    if (auth.method === 'private_key_jwt') return;
    const set = [auth.clientSecretEnv, auth.clientSecretFile].filter((v) => v !== undefined);
    if (set.length !== 1)
      ctx.addIssue({
        code: 'custom',
        path: ['clientAuth'],
        message: `${auth.method} needs exactly one of clientSecretEnv, clientSecretFile`,
      });
  });

/** One issuer's introspection settings as validated (secrets not read yet). */
export type IntrospectionSection = Immutable<z.output<typeof introspectionSchema>>;

/**
 * The routing rule over all issuers: with more than one introspecting issuer, each declares a
 * `prefix`, and no prefix starts another (a token must reach exactly one issuer). Returns each
 * problem as [issuer index, message].
 */
export function introspectionRoutingProblems(
  issuers: readonly { readonly introspection?: { readonly prefix?: string } }[],
): [number, string][] {
  const introspecting = issuers
    .map((issuer, i) => ({ i, prefix: issuer.introspection?.prefix }))
    .filter((_, i) => issuers[i]?.introspection !== undefined);
  if (introspecting.length < 2) return [];
  const problems: [number, string][] = [];
  for (const a of introspecting) {
    if (a.prefix === undefined) {
      problems.push([
        a.i,
        `more than one issuer introspects opaque tokens: each must declare introspection.prefix`,
      ]);
      continue;
    }
    for (const b of introspecting) {
      if (b.i >= a.i || b.prefix === undefined) continue;
      if (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix))
        problems.push([
          a.i,
          `introspection.prefix ${JSON.stringify(a.prefix)} overlaps issuers[${b.i}].introspection.prefix ${JSON.stringify(b.prefix)}: a token must match exactly one issuer`,
        ]);
    }
  }
  return problems;
}
