import { type FilterNode, parseFilter } from './filter-parser';
import { ScimError } from './scim-error';
import {
  type AttributeDef,
  COMMON_ATTRIBUTES,
  ENTERPRISE_ATTRIBUTES,
  ENTERPRISE_SCHEMA,
  findAttribute,
  GROUP_ATTRIBUTES,
  GROUP_SCHEMA,
  USER_ATTRIBUTES,
  USER_SCHEMA,
} from './scim-schemas';

/** The schemas a PATCH on one resource type may name: its core schema and its extensions. */
export interface PatchSchema {
  readonly core: { readonly urn: string; readonly attributes: readonly AttributeDef[] };
  readonly extensions: readonly {
    readonly urn: string;
    readonly attributes: readonly AttributeDef[];
  }[];
  /** Attributes that always hold a value here: removing them is refused (400 mutability). */
  readonly unassignable: readonly string[];
}

export const USER_PATCH_SCHEMA: PatchSchema = {
  core: { urn: USER_SCHEMA, attributes: [...USER_ATTRIBUTES, ...COMMON_ATTRIBUTES] },
  extensions: [{ urn: ENTERPRISE_SCHEMA, attributes: ENTERPRISE_ATTRIBUTES }],
  // Every user is active or not (its status column); "unassigned" has no meaning there.
  unassignable: ['active'],
};

export const GROUP_PATCH_SCHEMA: PatchSchema = {
  core: { urn: GROUP_SCHEMA, attributes: [...GROUP_ATTRIBUTES, ...COMMON_ATTRIBUTES] },
  extensions: [],
  unassignable: [],
};

/**
 * Where one PATCH path points, resolved against the schema's attribute definitions only: the
 * container (`extension` = the extension's URN, or undefined for the core schema), the
 * attribute, an optional value filter and an optional sub-attribute. `def` is undefined for the
 * bare extension URN (the whole extension object).
 */
export interface PatchTarget {
  readonly text: string;
  readonly extension?: string;
  readonly def?: AttributeDef;
  readonly filter?: FilterNode;
  readonly sub?: AttributeDef;
}

/** RFC 7643 §2.1 ATTRNAME (`ALPHA *(nameChar)`), plus `$ref`. Nothing else is a name segment. */
const ATTRNAME = /^(?:[A-Za-z][A-Za-z0-9_-]*|\$ref)/;

const invalidPath = (text: string, why: string): ScimError =>
  ScimError.invalid('invalidPath', `${JSON.stringify(text)}: ${why}`);

/**
 * Parses `attrPath` / `valuePath [subAttr]` (RFC 7644 §3.5.2), with an optional schema URN
 * prefix, and resolves every segment against the schema: a name that is not a defined attribute
 * or sub-attribute (`__proto__`, `constructor`, `prototype` included) is 400 invalidPath, so no
 * segment that is not a schema attribute is ever followed.
 */
export function resolvePath(text: string, schema: PatchSchema): PatchTarget {
  const lower = text.toLowerCase();
  let defs = schema.core.attributes;
  let extension: string | undefined;
  let rest = text;
  const ext = schema.extensions.find(
    (e) => lower === e.urn.toLowerCase() || lower.startsWith(`${e.urn.toLowerCase()}:`),
  );
  if (ext) {
    extension = ext.urn;
    if (lower.length === ext.urn.length) return { text, extension };
    defs = ext.attributes;
    rest = text.slice(ext.urn.length + 1);
  } else if (lower.startsWith(`${schema.core.urn.toLowerCase()}:`)) {
    rest = text.slice(schema.core.urn.length + 1);
  } else if (lower.startsWith('urn:')) {
    throw invalidPath(text, 'not an attribute of this resource type or of its extensions');
  }
  const name = ATTRNAME.exec(rest)?.[0];
  if (name === undefined) throw invalidPath(text, 'not an attribute path');
  const def = findAttribute(defs, name);
  if (!def) throw invalidPath(text, `no attribute ${JSON.stringify(name)}`);
  let at = name.length;
  let filter: FilterNode | undefined;
  if (rest[at] === '[') {
    const close = closingBracket(rest, at);
    if (close < 0) throw invalidPath(text, 'unterminated [filter]');
    if (!def.multiValued || def.type !== 'complex')
      throw invalidPath(text, `${def.name} is not a multi-valued complex attribute`);
    filter = checkedFilter(rest.slice(at + 1, close), def, text);
    at = close + 1;
  }
  let sub: AttributeDef | undefined;
  if (rest[at] === '.') {
    const subName = ATTRNAME.exec(rest.slice(at + 1))?.[0];
    if (subName === undefined) throw invalidPath(text, 'not a sub-attribute path');
    sub = findAttribute(def.subAttributes ?? [], subName);
    if (!sub) throw invalidPath(text, `no sub-attribute ${JSON.stringify(subName)} of ${def.name}`);
    at += 1 + subName.length;
  }
  if (at !== rest.length) throw invalidPath(text, `unexpected ${JSON.stringify(rest.slice(at))}`);
  return { text, extension, def, filter, sub };
}

/** The index of the `]` closing the `[` at `open`, skipping quoted strings; -1 when none. */
function closingBracket(s: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ']') return i;
  }
  return -1;
}

/** The filter inside `attr[...]`, every attribute it names resolved to a sub-attribute of `def`. */
function checkedFilter(inner: string, def: AttributeDef, text: string): FilterNode {
  let node: FilterNode;
  try {
    node = parseFilter(inner);
  } catch (error) {
    if (error instanceof ScimError) throw invalidPath(text, error.detail);
    throw error;
  }
  const check = (n: FilterNode): void => {
    switch (n.op) {
      case 'and':
      case 'or':
        check(n.left);
        check(n.right);
        return;
      case 'not':
        check(n.of);
        return;
      case 'valuePath':
        throw invalidPath(text, 'a [filter] inside a [filter]');
      case 'compare':
      case 'present':
        filterAttribute(def, n.path, text);
    }
  };
  check(node);
  return node;
}

/** The sub-attribute a filter names (`type`, or `emails.type` inside `emails[...]`). */
export function filterAttribute(def: AttributeDef, path: string, text: string): AttributeDef {
  const prefix = `${def.name.toLowerCase()}.`;
  const name = path.toLowerCase().startsWith(prefix) ? path.slice(prefix.length) : path;
  const sub = findAttribute(def.subAttributes ?? [], name);
  if (!sub) throw invalidPath(text, `no sub-attribute ${JSON.stringify(path)} of ${def.name}`);
  return sub;
}
