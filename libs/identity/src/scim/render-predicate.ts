import { DomainError } from '@resolver/reasons';
import type { ScimColumn, ScimOperand, ScimPredicate, ScimSort } from './scim-predicate';

/** Which table a predicate is rendered against. */
export type ScimTable = 'users' | 'groups';

const USER_COLUMNS: Readonly<Record<ScimColumn, string | undefined>> = {
  id: 's.user_id::text',
  userName: 's.user_name',
  externalId: 's.external_id',
  displayName: undefined,
  active: "(u.status = 'active')",
  created: 's.created_at',
  lastModified: 's.updated_at',
};
const GROUP_COLUMNS: Readonly<Record<ScimColumn, string | undefined>> = {
  id: 'g.id::text',
  userName: undefined,
  externalId: 'g.external_id',
  displayName: 'g.display_name',
  active: undefined,
  created: 'g.created_at',
  lastModified: 'g.updated_at',
};

/** Thrown for a predicate the table cannot answer (mapped to invalidFilter by the caller). */
export class UnrenderablePredicate extends DomainError<'invalidFilter'> {
  override readonly name = 'UnrenderablePredicate';
  constructor(message: string) {
    super('invalidFilter', message);
  }
}

/**
 * Renders a resolved filter into a SQL boolean expression and appends its bind values to
 * `params`. Values and JSON keys are always parameters; SQL text comes only from this file.
 */
export function renderPredicate(p: ScimPredicate, table: ScimTable, params: unknown[]): string {
  const bind = (v: unknown, cast = ''): string => {
    params.push(v);
    return `$${params.length}${cast}`;
  };
  const resource = table === 'users' ? 's.resource' : 'g.resource';

  const columnSql = (column: ScimColumn): string => {
    const sql = (table === 'users' ? USER_COLUMNS : GROUP_COLUMNS)[column];
    if (!sql) throw new UnrenderablePredicate(`${column} cannot be filtered on here`);
    return sql;
  };
  /** The operand as jsonb (for presence and boolean/number comparisons) and as text. */
  const operand = (
    o: ScimOperand,
    element: string | undefined,
  ): { json?: string; text: string } => {
    if (o.kind === 'column') return { text: columnSql(o.column) };
    const base = o.kind === 'element' ? element : resource;
    if (!base) throw new UnrenderablePredicate('a sub-attribute filter outside of [...]');
    if (o.kind === 'element' && o.path.length === 0)
      return { json: base, text: `(${base} #>> '{}')` };
    const path = bind([...o.path], '::text[]');
    return { json: `(${base} #> ${path})`, text: `(${base} #>> ${path})` };
  };

  const render = (q: ScimPredicate, element: string | undefined, depth: number): string => {
    switch (q.op) {
      case 'and':
      case 'or':
        return `(${q.of.map((x) => render(x, element, depth)).join(q.op === 'and' ? ' AND ' : ' OR ')})`;
      case 'not':
        return `(NOT COALESCE(${render(q.of, element, depth)}, false))`;
      case 'present': {
        const o = operand(q.target, element);
        if (q.target.kind === 'column') return `(${o.text} IS NOT NULL)`;
        return `(${o.json} IS NOT NULL AND ${o.json} NOT IN ('null'::jsonb, '""'::jsonb, '[]'::jsonb, '{}'::jsonb))`;
      }
      case 'any': {
        const e = `e${depth}`;
        const array = bind([...q.array], '::text[]');
        const where = q.where ? render(q.where, `${e}.v`, depth + 1) : 'true';
        return `EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(${resource} #> ${array}) = 'array' THEN ${resource} #> ${array} ELSE '[]'::jsonb END) AS ${e}(v) WHERE ${where})`;
      }
      case 'member': {
        if (table !== 'groups') throw new UnrenderablePredicate('members is a group attribute');
        if (q.comparator === 'pr')
          return 'EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id)';
        const has = `EXISTS (SELECT 1 FROM scim_group_members m WHERE m.group_id = g.id AND m.user_id::text = ${bind(q.userId)})`;
        return q.comparator === 'eq' ? has : `(NOT ${has})`;
      }
      case 'compare': {
        const o = operand(q.target, element);
        const { type, caseExact } = q.target;
        if (q.value === null) {
          // "eq null" asks for absence, "ne null" for presence.
          const present = render({ op: 'present', target: q.target }, element, depth);
          if (q.comparator === 'eq') return `(NOT ${present})`;
          if (q.comparator === 'ne') return present;
          throw new UnrenderablePredicate(`${q.comparator} null is not a comparison`);
        }
        if (type === 'boolean') {
          if (typeof q.value !== 'boolean' || (q.comparator !== 'eq' && q.comparator !== 'ne'))
            throw new UnrenderablePredicate('a boolean compares with eq or ne and true or false');
          const value = bind(q.value, '::boolean');
          const sql = q.target.kind === 'column' ? o.text : `(${o.json} = to_jsonb(${value}))`;
          const test = q.target.kind === 'column' ? `(${sql} = ${value})` : sql;
          return q.comparator === 'eq' ? test : `(NOT COALESCE(${test}, false))`;
        }
        if (type === 'dateTime') {
          if (typeof q.value !== 'string' || Number.isNaN(Date.parse(q.value)))
            throw new UnrenderablePredicate('a dateTime compares with an ISO 8601 string');
          const value = bind(q.value, '::timestamptz');
          const col = q.target.kind === 'column' ? o.text : `(${o.text})::timestamptz`;
          return ordered(q.comparator, col, value, () => {
            throw new UnrenderablePredicate(`${q.comparator} does not apply to a dateTime`);
          });
        }
        if (type === 'number') {
          if (typeof q.value !== 'number')
            throw new UnrenderablePredicate('a number compares with a number');
          const value = bind(q.value, '::numeric');
          return ordered(q.comparator, `(${o.text})::numeric`, value, () => {
            throw new UnrenderablePredicate(`${q.comparator} does not apply to a number`);
          });
        }
        if (typeof q.value !== 'string')
          throw new UnrenderablePredicate('a string attribute compares with a string');
        const fold = (sql: string) => (caseExact ? sql : `lower(${sql})`);
        const left = fold(o.text);
        const value = fold(bind(q.value, '::text'));
        return ordered(q.comparator, left, value, (c) => {
          switch (c) {
            case 'co':
              return `(strpos(${left}, ${value}) > 0)`;
            case 'sw':
              return `starts_with(${left}, ${value})`;
            case 'ew':
              return `(right(${left}, char_length(${value})) = ${value})`;
          }
        });
      }
    }
  };
  return render(p, undefined, 0);
}

function ordered(
  c: 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le',
  left: string,
  right: string,
  other: (c: 'co' | 'sw' | 'ew') => string,
): string {
  switch (c) {
    case 'eq':
      return `(${left} = ${right})`;
    case 'ne':
      return `(${left} IS DISTINCT FROM ${right})`;
    case 'gt':
      return `(${left} > ${right})`;
    case 'ge':
      return `(${left} >= ${right})`;
    case 'lt':
      return `(${left} < ${right})`;
    case 'le':
      return `(${left} <= ${right})`;
    case 'co':
    case 'sw':
    case 'ew':
      return other(c);
  }
}

/** ORDER BY for a list: the sort key (nulls last), then a stable tiebreak. */
export function renderSort(
  sort: ScimSort | undefined,
  table: ScimTable,
  params: unknown[],
): string {
  const tiebreak = table === 'users' ? 's.created_at, s.user_id' : 'g.created_at, g.id';
  if (!sort) return tiebreak;
  const dir = sort.descending ? 'DESC' : 'ASC';
  if (sort.kind === 'column') {
    const sql = (table === 'users' ? USER_COLUMNS : GROUP_COLUMNS)[sort.column];
    if (!sql) throw new UnrenderablePredicate(`cannot sort by ${sort.column}`);
    return `${sql} ${dir} NULLS LAST, ${tiebreak}`;
  }
  params.push([...sort.path]);
  return `(${table === 'users' ? 's' : 'g'}.resource #>> $${params.length}::text[]) ${dir} NULLS LAST, ${tiebreak}`;
}
