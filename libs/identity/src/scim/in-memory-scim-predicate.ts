import { UnrenderablePredicate } from './render-predicate';
import type { ScimColumn, ScimOperand, ScimPredicate, ScimSort } from './scim-predicate';

/** What a predicate reads of one row: its filterable columns, its stored resource, its members. */
export interface Evaluated {
  readonly columns: Readonly<Partial<Record<ScimColumn, string | boolean | Date | null>>>;
  readonly resource: Readonly<Record<string, unknown>>;
  readonly members: readonly string[];
}

type Value = string | boolean | number | Date | object | null | undefined;

/**
 * A resolved SCIM filter evaluated in memory the way `renderPredicate` has Postgres evaluate it:
 * a comparison with an absent value is false (`ne` true, as `IS DISTINCT FROM`), `not` treats
 * an unknown as false, strings fold case unless `caseExact`, and a column the table does not
 * have is an {@link UnrenderablePredicate}.
 */
export function matches(p: ScimPredicate, row: Evaluated, table: 'users' | 'groups'): boolean {
  const column = (c: ScimColumn): Value => {
    if (!(c in row.columns)) throw new UnrenderablePredicate(`${c} cannot be filtered on here`);
    return row.columns[c];
  };
  const operand = (o: ScimOperand, element: unknown): Value => {
    if (o.kind === 'column') return column(o.column);
    if (o.kind === 'element' && element === undefined)
      throw new UnrenderablePredicate('a sub-attribute filter outside of [...]');
    return at(o.kind === 'element' ? element : row.resource, o.path);
  };
  const test = (q: ScimPredicate, element: unknown): boolean => {
    switch (q.op) {
      case 'and':
        return q.of.every((x) => test(x, element));
      case 'or':
        return q.of.some((x) => test(x, element));
      case 'not':
        return !test(q.of, element);
      case 'present':
        return present(operand(q.target, element));
      case 'any': {
        const list = at(row.resource, q.array);
        return Array.isArray(list) && list.some((v) => q.where === null || test(q.where, v));
      }
      case 'member':
        if (table !== 'groups') throw new UnrenderablePredicate('members is a group attribute');
        if (q.comparator === 'pr') return row.members.length > 0;
        return row.members.includes(q.userId ?? '') === (q.comparator === 'eq');
      case 'compare':
        return compare(q, operand(q.target, element));
    }
  };
  return test(p, undefined);
}

function compare(q: Extract<ScimPredicate, { op: 'compare' }>, value: Value): boolean {
  const { comparator: c, target } = q;
  if (q.value === null) {
    if (c === 'eq') return !present(value);
    if (c === 'ne') return present(value);
    throw new UnrenderablePredicate(`${c} null is not a comparison`);
  }
  if (target.type === 'boolean') {
    if (typeof q.value !== 'boolean' || (c !== 'eq' && c !== 'ne'))
      throw new UnrenderablePredicate('a boolean compares with eq or ne and true or false');
    return (value === q.value) === (c === 'eq');
  }
  if (target.type === 'dateTime' || target.type === 'number') {
    if (c === 'co' || c === 'sw' || c === 'ew')
      throw new UnrenderablePredicate(`${c} does not apply to a ${target.type}`);
    const num = (v: Value) =>
      v instanceof Date ? v.getTime() : target.type === 'number' ? Number(v) : Date.parse(text(v));
    return ordered(c, value === null || value === undefined ? undefined : num(value), num(q.value));
  }
  if (typeof q.value !== 'string')
    throw new UnrenderablePredicate('a string attribute compares with a string');
  const fold = (s: string) => (target.caseExact ? s : s.toLowerCase());
  const left = value === null || value === undefined ? undefined : fold(text(value));
  const right = fold(q.value);
  switch (c) {
    case 'co':
      return left !== undefined && left.includes(right);
    case 'sw':
      return left !== undefined && left.startsWith(right);
    case 'ew':
      return left !== undefined && left.endsWith(right);
    case 'eq':
    case 'ne':
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le':
      return ordered(c, left, right);
  }
}

function ordered<T extends string | number>(
  c: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le',
  left: T | undefined,
  right: T,
): boolean {
  if (left === undefined) return c === 'ne';
  switch (c) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return left > right;
    case 'ge':
      return left >= right;
    case 'lt':
      return left < right;
    case 'le':
      return left <= right;
  }
}

/** `#>` on a jsonb value: own properties only, by exact key. */
function at(value: unknown, path: readonly string[]): Value {
  let v: unknown = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, key))
      return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v as Value;
}

/** `#>>`: strings as they are, everything else as JSON text. */
const text = (v: Value): string =>
  typeof v === 'string' ? v : v instanceof Date ? v.toISOString() : JSON.stringify(v);

function present(v: Value): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !(v instanceof Date)) return Object.keys(v).length > 0;
  return true;
}

/** ORDER BY the sort key (nulls last), then created and id, as `renderSort`. */
export function sortRows<R extends { createdAt: Date }>(
  rows: R[],
  sort: ScimSort | undefined,
  evaluated: (row: R) => Evaluated,
): R[] {
  const key = (r: R): string | number | undefined => {
    if (!sort) return undefined;
    const e = evaluated(r);
    if (sort.kind === 'column' && !(sort.column in e.columns))
      throw new UnrenderablePredicate(`cannot sort by ${sort.column}`);
    const v = sort.kind === 'column' ? e.columns[sort.column] : at(e.resource, sort.path);
    if (v === null || v === undefined) return undefined;
    return v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : text(v);
  };
  const tiebreak = (r: R) => `${r.createdAt.toISOString()} ${String(evaluated(r).columns.id)}`;
  return [...rows].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    if (ka !== kb) {
      if (ka === undefined) return 1;
      if (kb === undefined) return -1;
      return (ka < kb ? -1 : 1) * (sort?.descending ? -1 : 1);
    }
    return tiebreak(a) < tiebreak(b) ? -1 : 1;
  });
}
