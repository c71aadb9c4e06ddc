import { type ScimPatchOperation, scimPatch, ScimError as PatchLibraryError } from 'scim-patch';
import { ScimError, type ScimType } from './scim-error';
import { ENTERPRISE_SCHEMA, PATCH_SCHEMA } from './scim-schemas';

const MANAGER_PATH = `${ENTERPRISE_SCHEMA}:manager`.toLowerCase();

/**
 * Applies an RFC 7644 §3.5.2 PatchOp body to a resource with `scim-patch` (which takes `op` in
 * any case, `replace` without a path and removal by a filter path). The caller validates the
 * result exactly as it validates a PUT, so a PATCH can never store what a PUT could not.
 */
export function checkPatchBody(body: unknown, maxOperations: number): ScimPatchOperation[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw ScimError.invalid('invalidSyntax', 'the body must be a PatchOp object');
  const input = body as Record<string, unknown>;
  const schemas = input.schemas;
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA))
    throw ScimError.invalid('invalidSyntax', `schemas: must be ["${PATCH_SCHEMA}"]`);
  const ops = input.Operations ?? input.operations;
  if (!Array.isArray(ops) || ops.length === 0)
    throw ScimError.invalid('invalidSyntax', 'Operations: must be a non-empty array');
  if (ops.length > maxOperations)
    throw ScimError.invalid('tooMany', `Operations: more than ${maxOperations} operations`);
  ops.forEach((op, i) => {
    if (typeof op !== 'object' || op === null || typeof (op as { op?: unknown }).op !== 'string')
      throw ScimError.invalid(
        'invalidSyntax',
        `Operations[${i}].op: must be add, remove or replace`,
      );
    const name = (op as { op: string }).op.toLowerCase();
    if (name !== 'add' && name !== 'remove' && name !== 'replace')
      throw ScimError.invalid(
        'invalidSyntax',
        `Operations[${i}].op: must be add, remove or replace`,
      );
    const path = (op as { path?: unknown }).path;
    if (path !== undefined && (typeof path !== 'string' || path.length > 1024))
      throw ScimError.invalid('invalidPath', `Operations[${i}].path: must be a string`);
    if (name === 'remove' && path === undefined)
      throw ScimError.invalid('noTarget', `Operations[${i}].path: remove needs a path`);
    if (name !== 'remove' && !('value' in (op as object)))
      throw ScimError.invalid('invalidValue', `Operations[${i}].value: required for ${name}`);
  });
  // scim-patch reads `op` in any case, but its remove-by-value branch only for lowercase.
  return ops.flatMap((op: Record<string, unknown>) =>
    expand({ ...op, op: (op.op as string).toLowerCase() }),
  );
}

/**
 * A path-less add/replace whose value object has filter keys (`{"emails[type eq \"work\"].value":
 * "x"}`, as some IdPs send) becomes one operation per such key, with the key as its path.
 */
function expand(op: Record<string, unknown>): ScimPatchOperation[] {
  const value = op.value;
  // Entra ID adds a manager as its bare id; scim-patch cannot merge a string into the object.
  if (
    typeof op.path === 'string' &&
    op.path.toLowerCase() === MANAGER_PATH &&
    (typeof value === 'string' || (Array.isArray(value) && value.length === 1))
  )
    return [
      {
        ...op,
        value: typeof value === 'string' ? { value } : (value as unknown[])[0],
      } as unknown as ScimPatchOperation,
    ];
  if (op.path !== undefined || typeof value !== 'object' || value === null || Array.isArray(value))
    return [op as unknown as ScimPatchOperation];
  const entries = Object.entries(value as Record<string, unknown>);
  const filtered = entries.filter(([k]) => k.includes('['));
  if (!filtered.length) return [op as unknown as ScimPatchOperation];
  const rest = Object.fromEntries(entries.filter(([k]) => !k.includes('[')));
  return [
    ...(Object.keys(rest).length ? [{ ...op, value: rest } as unknown as ScimPatchOperation] : []),
    ...filtered.map(([path, v]) => ({ ...op, path, value: v }) as unknown as ScimPatchOperation),
  ];
}

/** Applies operations already checked by {@link checkPatchBody}. */
export function applyPatch(
  resource: Record<string, unknown>,
  ops: ScimPatchOperation[],
): Record<string, unknown> {
  try {
    // JSON copies, not structuredClone: scim-patch compares values with fast-deep-equal, which
    // also compares constructors, so the resource and the operations must share one realm.
    const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    return scimPatch(copy(resource) as unknown as Parameters<typeof scimPatch>[0], copy(ops), {
      mutateDocument: true,
      treatMissingAsAdd: true,
    }) as unknown as Record<string, unknown>;
  } catch (error) {
    if (error instanceof PatchLibraryError) {
      const code = error.scimCode;
      const known: ScimType[] = [
        'invalidPath',
        'noTarget',
        'invalidValue',
        'invalidSyntax',
        'mutability',
      ];
      const scimType = known.find((k) => k === code) ?? 'invalidValue';
      throw ScimError.invalid(scimType, error.message);
    }
    throw ScimError.invalid(
      'invalidValue',
      `the patch cannot be applied: ${(error as Error).message}`,
    );
  }
}
