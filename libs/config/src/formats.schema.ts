import { z } from 'zod';
import type { Immutable } from './immutable';

/**
 * JWE key-management algorithms (RFC 7518 §4) the resolver can decrypt with. `RSA1_5` (PKCS #1
 * v1.5 padding, open to Bleichenbacher-style oracles) and `dir` (the content key is the
 * configured key itself, shared with every sender) are accepted only when listed explicitly.
 */
export const KEY_MANAGEMENT_ALGORITHMS = [
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A192KW',
  'ECDH-ES+A256KW',
  'A128KW',
  'A192KW',
  'A256KW',
  'A128GCMKW',
  'A192GCMKW',
  'A256GCMKW',
  'RSA1_5',
  'dir',
] as const;
export type KeyManagementAlgorithm = (typeof KEY_MANAGEMENT_ALGORITHMS)[number];

/** JWE content encryption (RFC 7518 §5). */
export const CONTENT_ENCRYPTION_ALGORITHMS = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
] as const;
export type ContentEncryptionAlgorithm = (typeof CONTENT_ENCRYPTION_ALGORITHMS)[number];

const kmAlgorithm = z.enum(KEY_MANAGEMENT_ALGORITHMS, {
  error: (issue) =>
    `unsupported key-management algorithm ${JSON.stringify(issue.input)}; allowed: ${KEY_MANAGEMENT_ALGORITHMS.join(', ')}`,
});
const encAlgorithm = z.enum(CONTENT_ENCRYPTION_ALGORITHMS, {
  error: (issue) =>
    `unsupported content encryption ${JSON.stringify(issue.input)}; allowed: ${CONTENT_ENCRYPTION_ALGORITHMS.join(', ')}`,
});

/** A `kid`: what a token's header or footer names a key by. */
const kid = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** One decryption key: private key material (PEM or JWK) from a file or a variable. */
const decryptionKeySchema = z
  .strictObject({
    kid,
    file: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .refine((k) => (k.file === undefined) !== (k.env === undefined), {
    message: 'set exactly one of file or env (the private key, PEM or JWK)',
  });

/**
 * Encrypted JWTs (JWE, RFC 7516) this issuer's tokens may come as: the keys they are encrypted
 * to (selected by the JWE's `kid`), what algorithms and compression are accepted, and whether a
 * payload that is not a signed JWT is tolerated. Separate from the signing keys: a token
 * encrypted to a signing key never decrypts.
 */
export const decryptionSchema = z
  .strictObject({
    keys: z.array(decryptionKeySchema).min(1, 'list at least one decryption key'),
    keyManagementAlgorithms: z
      .array(kmAlgorithm)
      .min(1)
      .default(['RSA-OAEP-256', 'ECDH-ES+A256KW', 'ECDH-ES+A128KW']),
    contentEncryptionAlgorithms: z.array(encAlgorithm).min(1).default(['A256GCM', 'A128GCM']),
    /** `zip: DEF`: off unless allowed, and then bounded (a compression bomb stops here). */
    compression: z
      .strictObject({
        allowed: z.boolean().default(false),
        maxDecompressedBytes: z.number().int().min(256).max(1_048_576).default(65_536),
      })
      .prefault({}),
    /**
     * Accept a JWE whose payload is a claims set instead of a signed JWT. Off: anyone holding
     * the public encryption key (which is public) could then mint tokens the resolver accepts.
     */
    allowUnsignedPayload: z.boolean().default(false),
  })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.keys.forEach((k, i) => {
      if (seen.has(k.kid))
        ctx.addIssue({
          code: 'custom',
          path: ['keys', i, 'kid'],
          message: `duplicate kid ${k.kid}`,
        });
      seen.add(k.kid);
    });
  });
export type DecryptionPolicy = Immutable<z.output<typeof decryptionSchema>>;

/** One PASETO v4.public key: a PASERK `k4.public.…` inline, or a PEM Ed25519 public key file. */
const pasetoKeySchema = z
  .strictObject({
    /** Matched against the footer's `kid`; a footer without one tries every key. */
    kid: kid.optional(),
    paserk: z
      .string()
      .regex(/^k4\.public\.[A-Za-z0-9_-]{43}$/, 'must be a PASERK k4.public.<43 base64url chars>')
      .optional(),
    file: z.string().min(1).optional(),
  })
  .refine((k) => (k.paserk === undefined) !== (k.file === undefined), {
    message: 'set exactly one of paserk or file (a PEM Ed25519 public key)',
  });

/** PASETO v4.public tokens (Ed25519): only v4.public is ever accepted. */
export const pasetoSchema = z.strictObject({
  keys: z.array(pasetoKeySchema).min(1, 'list at least one v4.public key'),
  /** The implicit assertion the issuer signs with (PASETO v4 `i`); empty by default. */
  implicitAssertion: z.string().max(4096).default(''),
  /** The largest footer accepted (JSON with a `kid`), in bytes. */
  maxFooterBytes: z.number().int().min(16).max(8192).default(1024),
});
export type PasetoPolicy = Immutable<z.output<typeof pasetoSchema>>;
