import { z } from 'zod';
import { findUnstorable, MAX_JTI_LENGTH, parseDateTime } from '@resolver/identity';
import { describeNonCanonical, findNonCanonical, foldEmail, UUID } from '@resolver/policy';
import { AdminError } from './admin-error';

/** Most rows one `POST /admin/v1/users/import` takes. */
export const IMPORT_MAX_ROWS = 1000;
/**
 * The body limit of the import route (the rest of the HTTP surface keeps
 * `server.bodyLimitBytes`): 1,000 rows of up to 8 KiB of JSON each. The CLI packs its batches
 * under it, so only a single huge row can meet it.
 */
export const IMPORT_MAX_BODY_BYTES = 8 * 1024 * 1024;

const text = (max: number) => z.string().trim().min(1).max(max);
/**
 * An identifier (subject, tenant, email, username) is stored as given or refused, never trimmed
 * or normalised: a rewritten value would be one that no token carries (docs/security-model.md).
 */
const canonical = (schema: z.ZodString) =>
  schema.superRefine((value, ctx) => {
    const found = findNonCanonical(value);
    if (found)
      ctx.addIssue({ code: 'custom', message: `is not canonical: ${describeNonCanonical(found)}` });
  });
const identifier = (max: number) => canonical(z.string().min(1).max(max));
const tenant = canonical(z.string().max(255)).default('');
const email = canonical(z.string().max(320))
  .regex(/^[^@\p{White_Space}]+@[^@\p{White_Space}]+$/u, 'must be an email address')
  .transform(foldEmail);
// Role names are identifiers too: stored as sent or refused, never trimmed into another role.
const roles = z.array(identifier(128)).max(100);
const attributes = z
  .record(z.string().min(1).max(64), z.unknown())
  .refine((a) => JSON.stringify(a).length <= 16_384, 'is larger than 16 KiB');

/**
 * Inputs whose parts are parsed on their own (the import's rows: a bad row is reported in the
 * results, not a 400 for the whole request), so {@link parseInput} leaves the store rule to them.
 */
const PARTS_PARSED_APART = new WeakSet<z.ZodType>();
function partsParsedApart<S extends z.ZodType>(schema: S): S {
  PARTS_PARSED_APART.add(schema);
  return schema;
}

/** A path parameter naming a user or an identity. */
export const idParam = z.string().regex(UUID, 'must be a UUID');

export const identityInput = z.strictObject({
  // As tokens carry it: issuers compare byte for byte, so never trimmed.
  issuer: identifier(2048),
  tenant,
  subject: identifier(1024),
});

export const createUserInput = z.strictObject({
  tenant,
  kind: z.enum(['user', 'service']).default('user'),
  email: email.optional(),
  username: identifier(255).optional(),
  displayName: text(255).optional(),
  roles: roles.default([]),
  attributes: attributes.default({}),
  status: z.enum(['active', 'disabled', 'locked']).default('active'),
  identities: z.array(identityInput).max(20).default([]),
});

export const updateUserInput = z
  .strictObject({
    email: email.nullable().optional(),
    username: identifier(255).nullable().optional(),
    displayName: text(255).nullable().optional(),
    roles: roles.optional(),
    attributes: attributes.optional(),
  })
  .refine((u) => Object.keys(u).length > 0, 'nothing to update');

export const listUsersInput = z.strictObject({
  tenant: z.string().max(255).optional(),
  status: z.enum(['active', 'disabled', 'locked']).optional(),
  email: z.string().max(320).optional(),
  provenance: z.enum(['admin', 'jit', 'scim', 'import']).optional(),
  deleted: z.enum(['true', 'false', 'all']).default('false'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const AUDIT_LIMIT = 'must be an integer from 1 to 10000';
/** `GET /admin/v1/audit/identifiers?limit=`: how many findings at most. */
export const auditIdentifiersInput = z.object({
  limit: z.coerce
    .number({ error: AUDIT_LIMIT })
    .int(AUDIT_LIMIT)
    .min(1, AUDIT_LIMIT)
    .max(10_000, AUDIT_LIMIT)
    .default(1000),
});

export const revokeInput = z.strictObject({
  // As tokens carry it: issuers compare byte for byte, so never trimmed.
  issuer: identifier(2048),
  // As the token carries it: a trimmed jti would be one no token has.
  jti: z.string().min(1).max(MAX_JTI_LENGTH),
  // RFC 3339 within years 1 to 9999: a date the deny-list can store (`+275760-…` parses in
  // JavaScript, not in Postgres).
  expiresAt: z.string().transform((s, ctx) => {
    const at = parseDateTime(s);
    if (!at)
      ctx.addIssue({
        code: 'custom',
        message: 'must be an RFC 3339 date-time with a zone, in the years 1 to 9999',
      });
    return at ?? new Date(NaN);
  }),
});

export const importRowInput = createUserInput.omit({ status: true }).extend({
  status: z.enum(['active', 'disabled', 'locked']).optional(),
});

/**
 * One import row as the edge parsed it: the typed row, or why it is refused. A bad row is
 * reported in the results, not a 400 for the whole request.
 */
export type ImportRowEntry =
  | { readonly ok: true; readonly input: ImportRowInput }
  | { readonly ok: false; readonly error: string };

/**
 * `POST /admin/v1/users/import`: up to {@link IMPORT_MAX_ROWS} rows, each parsed on its own;
 * `dryRun` is on only when it is `true`. Other fields are ignored.
 */
export const importInput = partsParsedApart(
  z.object({
    rows: z
      .array(z.unknown(), { error: `must be an array of at most ${IMPORT_MAX_ROWS} users` })
      .max(IMPORT_MAX_ROWS, { error: `must be an array of at most ${IMPORT_MAX_ROWS} users` })
      .transform((rows) => rows.map(importRowEntry)),
    dryRun: z
      .unknown()
      .optional()
      .transform((v) => v === true),
  }),
);

function importRowEntry(row: unknown): ImportRowEntry {
  try {
    return { ok: true, input: parseInput(importRowInput, row) };
  } catch (error) {
    if (error instanceof AdminError) return { ok: false, error: error.message };
    throw error;
  }
}

export type CreateUserInput = z.output<typeof createUserInput>;
export type UpdateUserInput = z.output<typeof updateUserInput>;
export type ListUsersInput = z.output<typeof listUsersInput>;
export type RevokeInput = z.output<typeof revokeInput>;
export type AuditIdentifiersInput = z.output<typeof auditIdentifiersInput>;
export type IdentityInput = z.output<typeof identityInput>;
export type ImportRowInput = z.output<typeof importRowInput>;
export type ImportInput = z.output<typeof importInput>;

/**
 * Parses admin input or throws INVALID naming the first bad field (`roles[2]`, `email`).
 * `prefix` names the input itself when it is one value (a path parameter: `id`).
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix?: string,
): z.output<S> {
  // What the store cannot hold is refused first, with its path, whatever the schema (one rule for
  // every writer: libs/identity storable.ts).
  const unstorable = PARTS_PARSED_APART.has(schema) ? undefined : findUnstorable(value, prefix);
  if (unstorable) {
    const field = unstorable.path || undefined;
    throw new AdminError(
      'INVALID',
      field ? `${field}: ${unstorable.problem}` : unstorable.problem,
      field,
    );
  }
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const path = [...(prefix ? [prefix] : []), ...issue.path].reduce<string>(
    (out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)),
    '',
  );
  const field =
    issue.code === 'unrecognized_keys'
      ? [path, issue.keys[0]].filter(Boolean).join('.')
      : path || undefined;
  const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
  throw new AdminError('INVALID', field ? `${field}: ${message}` : message, field);
}
