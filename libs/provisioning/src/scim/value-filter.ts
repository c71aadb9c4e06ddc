import type { CompValue, FilterNode } from './filter-parser';
import { filterAttribute } from './patch-path';
import type { AttributeDef } from './scim-schemas';

/** An own property, never an inherited one. */
export function own(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null && Object.hasOwn(obj, key)
    ? (obj as Record<string, unknown>)[key]
    : undefined;
}

const absent = (v: unknown) => v === undefined || v === null;

/** `"True"`/`"False"` count as booleans, as the validator reads them (Entra ID sends them). */
function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  return undefined;
}

/** Orders two values of one attribute type, or undefined when they cannot be compared. */
function order(def: AttributeDef, have: unknown, want: CompValue): number | undefined {
  switch (def.type) {
    case 'boolean': {
      const b = asBoolean(have);
      return b === undefined || typeof want !== 'boolean' ? undefined : Number(b) - Number(want);
    }
    case 'integer':
    case 'decimal':
      return typeof have === 'number' && typeof want === 'number' ? have - want : undefined;
    case 'dateTime': {
      const a = typeof have === 'string' ? Date.parse(have) : NaN;
      const b = typeof want === 'string' ? Date.parse(want) : NaN;
      return Number.isNaN(a) || Number.isNaN(b) ? undefined : a - b;
    }
    case 'string':
    case 'reference':
    case 'binary':
    case 'complex': {
      if (typeof have !== 'string' || typeof want !== 'string') return undefined;
      const [a, b] = def.caseExact ? [have, want] : [have.toLowerCase(), want.toLowerCase()];
      return a < b ? -1 : a > b ? 1 : 0;
    }
  }
}

function compare(def: AttributeDef, have: unknown, comparator: string, want: CompValue): boolean {
  if (absent(have))
    return comparator === 'eq' ? want === null : comparator === 'ne' && want !== null;
  if (want === null) return comparator === 'ne';
  if (comparator === 'co' || comparator === 'sw' || comparator === 'ew') {
    if (typeof have !== 'string' || typeof want !== 'string' || def.type === 'boolean')
      return false;
    const [a, b] = def.caseExact ? [have, want] : [have.toLowerCase(), want.toLowerCase()];
    if (comparator === 'co') return a.includes(b);
    return comparator === 'sw' ? a.startsWith(b) : a.endsWith(b);
  }
  const o = order(def, have, want);
  if (o === undefined) return comparator === 'ne';
  switch (comparator) {
    case 'eq':
      return o === 0;
    case 'ne':
      return o !== 0;
    case 'gt':
      return def.type !== 'boolean' && o > 0;
    case 'ge':
      return def.type !== 'boolean' && o >= 0;
    case 'lt':
      return def.type !== 'boolean' && o < 0;
    case 'le':
      return def.type !== 'boolean' && o <= 0;
    default:
      return false;
  }
}

/**
 * Whether one value of the multi-valued complex attribute `def` matches a `[filter]` (RFC 7644
 * §3.4.2.2 semantics, in memory; strings case-insensitive unless the sub-attribute is caseExact).
 */
export function matches(node: FilterNode, element: unknown, def: AttributeDef): boolean {
  switch (node.op) {
    case 'and':
      return matches(node.left, element, def) && matches(node.right, element, def);
    case 'or':
      return matches(node.left, element, def) || matches(node.right, element, def);
    case 'not':
      return !matches(node.of, element, def);
    case 'present': {
      const v = own(element, filterAttribute(def, node.path, node.path).name);
      return !absent(v) && v !== '' && !(Array.isArray(v) && v.length === 0);
    }
    case 'compare': {
      const sub = filterAttribute(def, node.path, node.path);
      return compare(sub, own(element, sub.name), node.comparator, node.value);
    }
    case 'valuePath':
      return false;
  }
}

/**
 * The value a filter made only of `eq` comparisons joined by `and` describes (`type eq "work"` ->
 * `{type: "work"}`), for an add/replace whose filter matches nothing; undefined for any other.
 */
export function equalities(
  node: FilterNode,
  def: AttributeDef,
): Record<string, unknown> | undefined {
  if (node.op === 'compare' && node.comparator === 'eq' && node.value !== null)
    return { [filterAttribute(def, node.path, node.path).name]: node.value };
  if (node.op !== 'and') return undefined;
  const left = equalities(node.left, def);
  const right = equalities(node.right, def);
  return left && right ? { ...left, ...right } : undefined;
}
