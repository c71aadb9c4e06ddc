/**
 * A SCIM filter after its attribute paths are resolved against the schema: what the SCIM store
 * renders into parameterised SQL. Every value (and every JSON key) becomes a bind parameter; the
 * only SQL text is chosen from closed sets here, so no filter can inject anything.
 */

/** Columns a filter can address directly (users: `s`/`u`; groups: `g`). */
export type ScimColumn =
  'id' | 'userName' | 'externalId' | 'displayName' | 'active' | 'created' | 'lastModified';

export type ScimValueType = 'string' | 'boolean' | 'number' | 'dateTime' | 'reference' | 'binary';

/** What a comparison reads: a column, a single value inside the stored resource, or a value inside one element of a multi-valued attribute. */
export type ScimOperand =
  | {
      readonly kind: 'column';
      readonly column: ScimColumn;
      readonly type: ScimValueType;
      readonly caseExact: boolean;
    }
  | {
      readonly kind: 'json';
      readonly path: readonly string[];
      readonly type: ScimValueType;
      readonly caseExact: boolean;
    }
  | {
      readonly kind: 'element';
      readonly path: readonly string[];
      readonly type: ScimValueType;
      readonly caseExact: boolean;
    };

export type ScimComparator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

export type ScimPredicate =
  | { readonly op: 'and' | 'or'; readonly of: readonly ScimPredicate[] }
  | { readonly op: 'not'; readonly of: ScimPredicate }
  | {
      readonly op: 'compare';
      readonly target: ScimOperand;
      readonly comparator: ScimComparator;
      readonly value: string | number | boolean | null;
    }
  | { readonly op: 'present'; readonly target: ScimOperand }
  /** Some element of the multi-valued attribute at `array` matches `where` (element operands). */
  | { readonly op: 'any'; readonly array: readonly string[]; readonly where: ScimPredicate | null }
  /** Groups only: the group has a member whose user id compares so. */
  | { readonly op: 'member'; readonly comparator: 'eq' | 'ne' | 'pr'; readonly userId?: string };

/** Sort keys a list can be ordered by. */
export type ScimSort =
  | { readonly kind: 'column'; readonly column: ScimColumn; readonly descending: boolean }
  | { readonly kind: 'json'; readonly path: readonly string[]; readonly descending: boolean };
