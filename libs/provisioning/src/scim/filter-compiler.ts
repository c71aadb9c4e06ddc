import {
  parseDateTime,
  type ScimOperand,
  type ScimPredicate,
  type ScimSort,
  type ScimValueType,
} from '@resolver/identity';
import { type CompValue, type Comparator, type FilterNode, parseFilter } from './filter-parser';
import { ScimError } from './scim-error';
import {
  type AttributeDef,
  ENTERPRISE_ATTRIBUTES,
  ENTERPRISE_SCHEMA,
  findAttribute,
  GROUP_ATTRIBUTES,
  GROUP_SCHEMA,
  USER_ATTRIBUTES,
  USER_SCHEMA,
} from './scim-schemas';

export type ResourceKind = 'User' | 'Group';

const fail = (detail: string): never => {
  throw ScimError.invalid('invalidFilter', `filter: ${detail}`);
};

const valueType = (d: AttributeDef): ScimValueType => {
  switch (d.type) {
    case 'decimal':
    case 'integer':
      return 'number';
    case 'complex':
      return 'string';
    case 'string':
    case 'boolean':
    case 'dateTime':
    case 'reference':
    case 'binary':
      return d.type;
  }
};

/** An attribute path resolved against the resource's schemas. */
type Resolved =
  | { kind: 'operand'; operand: ScimOperand }
  /** A multi-valued attribute; `sub` = the sub-attribute named after it, if any. */
  | { kind: 'multi'; array: string[]; def: AttributeDef; sub?: AttributeDef }
  | { kind: 'members'; sub?: string };

/** Splits `urn:...:User:name.givenName` into the schema's attribute list, JSON prefix and the rest. */
function resolvePath(path: string, kind: ResourceKind): Resolved {
  let defs: readonly AttributeDef[] = kind === 'User' ? USER_ATTRIBUTES : GROUP_ATTRIBUTES;
  let prefix: string[] = [];
  let rest = path;
  const lower = path.toLowerCase();
  const core = kind === 'User' ? USER_SCHEMA : GROUP_SCHEMA;
  if (lower.startsWith(`${core.toLowerCase()}:`)) rest = path.slice(core.length + 1);
  else if (kind === 'User' && lower.startsWith(`${ENTERPRISE_SCHEMA.toLowerCase()}:`)) {
    defs = ENTERPRISE_ATTRIBUTES;
    prefix = [ENTERPRISE_SCHEMA];
    rest = path.slice(ENTERPRISE_SCHEMA.length + 1);
  } else if (lower.startsWith('urn:')) return fail(`unknown schema in ${path}`);
  const [name = '', subName, ...extra] = rest.split('.');
  if (extra.length) fail(`${path}: too many levels`);
  const top = name.toLowerCase();
  if (!prefix.length) {
    // Common attributes and the columns resolution itself reads.
    if (top === 'id' || top === 'externalid') {
      if (subName) fail(`${path}: ${name} has no sub-attributes`);
      return {
        kind: 'operand',
        operand: {
          kind: 'column',
          column: top === 'id' ? 'id' : 'externalId',
          type: 'string',
          caseExact: true,
        },
      };
    }
    if (top === 'meta') {
      const sub = subName?.toLowerCase();
      if (sub === 'created' || sub === 'lastmodified')
        return {
          kind: 'operand',
          operand: {
            kind: 'column',
            column: sub === 'created' ? 'created' : 'lastModified',
            type: 'dateTime',
            caseExact: true,
          },
        };
      return fail(`${path}: only meta.created and meta.lastModified can be filtered on`);
    }
    if (kind === 'User' && top === 'username' && !subName)
      return {
        kind: 'operand',
        operand: { kind: 'column', column: 'userName', type: 'string', caseExact: false },
      };
    if (kind === 'User' && top === 'active' && !subName)
      return {
        kind: 'operand',
        operand: { kind: 'column', column: 'active', type: 'boolean', caseExact: true },
      };
    if (kind === 'Group' && top === 'displayname' && !subName)
      return {
        kind: 'operand',
        operand: { kind: 'column', column: 'displayName', type: 'string', caseExact: false },
      };
    if (kind === 'Group' && top === 'members')
      return { kind: 'members', sub: subName?.toLowerCase() };
    if (kind === 'User' && top === 'groups')
      fail(
        `${path}: groups is answered from memberships and cannot be filtered on; filter the Groups endpoint by members`,
      );
  }
  const def = findAttribute(defs, name);
  if (!def || def.returned === 'never') return fail(`unknown attribute ${path}`);
  const sub = subName === undefined ? undefined : findAttribute(def.subAttributes ?? [], subName);
  if (subName !== undefined && !sub) fail(`unknown attribute ${path}`);
  if (def.multiValued) return { kind: 'multi', array: [...prefix, def.name], def, sub };
  if (def.type === 'complex' && !sub) fail(`${path} is complex: name a sub-attribute`);
  const leaf = sub ?? def;
  return {
    kind: 'operand',
    operand: {
      kind: 'json',
      path: [...prefix, def.name, ...(sub ? [sub.name] : [])],
      type: valueType(leaf),
      caseExact: leaf.caseExact,
    },
  };
}

function compare(
  target: ScimOperand,
  comparator: Comparator | 'pr',
  value: CompValue,
): ScimPredicate {
  if (comparator === 'pr') return { op: 'present', target };
  if (value !== null) {
    // A date Postgres and JavaScript read alike, or 400: `"2020"` and `"+275760-…"` parse in
    // JavaScript, not in Postgres (which would answer an error that reads as an outage).
    if (target.type === 'dateTime' && typeof value === 'string' && !parseDateTime(value))
      fail(`${JSON.stringify(value)} is not an RFC 3339 date-time within the years 1 to 9999`);
    const ok =
      target.type === 'boolean'
        ? typeof value === 'boolean' && (comparator === 'eq' || comparator === 'ne')
        : target.type === 'number'
          ? typeof value === 'number' && !['co', 'sw', 'ew'].includes(comparator)
          : target.type === 'dateTime'
            ? typeof value === 'string' && !['co', 'sw', 'ew'].includes(comparator)
            : typeof value === 'string';
    if (!ok)
      fail(`${comparator} ${JSON.stringify(value)} does not apply to a ${target.type} attribute`);
  } else if (comparator !== 'eq' && comparator !== 'ne')
    fail(`${comparator} null is not a comparison`);
  return { op: 'compare', target, comparator, value };
}

/** A sub-attribute of an element, as an element operand. */
function elementOperand(def: AttributeDef, sub: AttributeDef | undefined): ScimOperand {
  // A multi-valued attribute compared without a sub-attribute compares its "value".
  const leaf = sub ?? findAttribute(def.subAttributes ?? [], 'value');
  if (!leaf) return fail(`${def.name}: name a sub-attribute`);
  return { kind: 'element', path: [leaf.name], type: valueType(leaf), caseExact: leaf.caseExact };
}

function compileElement(node: FilterNode, def: AttributeDef): ScimPredicate {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, of: [compileElement(node.left, def), compileElement(node.right, def)] };
    case 'not':
      return { op: 'not', of: compileElement(node.of, def) };
    case 'valuePath':
      return fail('a [filter] inside a [filter]');
    case 'present':
    case 'compare': {
      const sub = findAttribute(def.subAttributes ?? [], node.path);
      if (!sub) return fail(`${def.name} has no sub-attribute ${node.path}`);
      const target = elementOperand(def, sub);
      return node.op === 'present'
        ? { op: 'present', target }
        : compare(target, node.comparator, node.value);
    }
  }
}

function membersPredicate(
  sub: string | undefined,
  comparator: Comparator | 'pr',
  value: CompValue,
): ScimPredicate {
  if (comparator === 'pr') return { op: 'member', comparator: 'pr' };
  if (
    (sub !== undefined && sub !== 'value') ||
    (comparator !== 'eq' && comparator !== 'ne') ||
    typeof value !== 'string'
  )
    return fail('members can be filtered by members.value eq/ne "<user id>" or members pr');
  return { op: 'member', comparator, userId: value };
}

function compileNode(node: FilterNode, kind: ResourceKind): ScimPredicate {
  switch (node.op) {
    case 'and':
    case 'or':
      return { op: node.op, of: [compileNode(node.left, kind), compileNode(node.right, kind)] };
    case 'not':
      return { op: 'not', of: compileNode(node.of, kind) };
    case 'present':
    case 'compare': {
      const comparator = node.op === 'present' ? 'pr' : node.comparator;
      const value = node.op === 'present' ? null : node.value;
      const r = resolvePath(node.path, kind);
      switch (r.kind) {
        case 'operand':
          return compare(r.operand, comparator, value);
        case 'members':
          return membersPredicate(r.sub, comparator, value);
        case 'multi':
          if (comparator === 'pr' && !r.sub) return { op: 'any', array: r.array, where: null };
          return {
            op: 'any',
            array: r.array,
            where: compare(elementOperand(r.def, r.sub), comparator, value),
          };
      }
      break;
    }
    case 'valuePath': {
      const r = resolvePath(node.path, kind);
      if (r.kind === 'members') {
        if (node.filter.op !== 'compare' && node.filter.op !== 'present')
          return fail('members[...] takes one value comparison');
        const inner = node.filter;
        return membersPredicate(
          inner.path.toLowerCase(),
          inner.op === 'present' ? 'pr' : inner.comparator,
          inner.op === 'present' ? null : inner.value,
        );
      }
      if (r.kind !== 'multi' || r.sub)
        return fail(`${node.path}[...] needs a multi-valued attribute`);
      const where = compileElement(node.filter, r.def);
      if (!node.sub) return { op: 'any', array: r.array, where };
      const sub = findAttribute(r.def.subAttributes ?? [], node.sub.attribute);
      if (!sub) return fail(`${r.def.name} has no sub-attribute ${node.sub.attribute}`);
      return {
        op: 'any',
        array: r.array,
        where: {
          op: 'and',
          of: [where, compare(elementOperand(r.def, sub), node.sub.comparator, node.sub.value)],
        },
      };
    }
  }
  return fail('unsupported expression');
}

/** Parses and resolves a filter for `kind`; anything that cannot be compiled is 400 invalidFilter. */
export function compileFilter(text: string, kind: ResourceKind): ScimPredicate {
  return compileNode(parseFilter(text), kind);
}

/** `sortBy` resolved to a column or a single-valued attribute (400 invalidValue otherwise). */
export function compileSort(
  sortBy: string,
  order: string | undefined,
  kind: ResourceKind,
): ScimSort {
  const descending = order?.toLowerCase() === 'descending';
  if (order !== undefined && !descending && order.toLowerCase() !== 'ascending')
    throw ScimError.invalid('invalidValue', 'sortOrder: must be ascending or descending');
  let r: Resolved;
  try {
    r = resolvePath(sortBy, kind);
  } catch {
    throw ScimError.invalid('invalidValue', `sortBy: unknown attribute ${sortBy}`);
  }
  if (r.kind !== 'operand')
    throw ScimError.invalid(
      'invalidValue',
      `sortBy: ${sortBy} is multi-valued; sort by a single-valued attribute`,
    );
  const o = r.operand;
  if (o.kind === 'column') return { kind: 'column', column: o.column, descending };
  return { kind: 'json', path: o.kind === 'json' ? o.path : [], descending };
}
