import { ScimError } from './scim-error';
import {
  GROUP_PATCH_SCHEMA,
  type PatchSchema,
  type PatchTarget,
  resolvePath,
  USER_PATCH_SCHEMA,
} from './patch-path';
import { type AttributeDef, findAttribute, PATCH_SCHEMA } from './scim-schemas';
import { equalities, matches, own } from './value-filter';

/** One checked operation of a PatchOp body; `at` names it in error details. */
export interface PatchOperation {
  readonly op: 'add' | 'remove' | 'replace';
  readonly path?: string;
  readonly value?: unknown;
  readonly at: string;
}

type Obj = Record<string, unknown>;
const MAX_PATH = 1024;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (
  scimType: 'invalidSyntax' | 'invalidValue' | 'noTarget' | 'mutability',
  d: string,
) => ScimError.invalid(scimType, d);

/** Checks a PatchOp body's shape (RFC 7644 §3.5.2); paths are resolved when applied. */
export function checkPatchBody(body: unknown, maxOperations: number): PatchOperation[] {
  if (!isObject(body)) throw invalid('invalidSyntax', 'the body must be a PatchOp object');
  const schemas = own(body, 'schemas');
  if (!Array.isArray(schemas) || !schemas.includes(PATCH_SCHEMA))
    throw invalid('invalidSyntax', `schemas: must be ["${PATCH_SCHEMA}"]`);
  const ops = own(body, 'Operations') ?? own(body, 'operations');
  if (!Array.isArray(ops) || ops.length === 0)
    throw invalid('invalidSyntax', 'Operations: must be a non-empty array');
  if (ops.length > maxOperations)
    throw ScimError.invalid('tooMany', `Operations: more than ${maxOperations} operations`);
  return ops.map((raw: unknown, i) => {
    const at = `Operations[${i}]`;
    const name = own(raw, 'op');
    const op = typeof name === 'string' ? name.toLowerCase() : '';
    if (op !== 'add' && op !== 'remove' && op !== 'replace')
      throw invalid('invalidSyntax', `${at}.op: must be add, remove or replace`);
    const path = own(raw, 'path');
    if (path !== undefined && (typeof path !== 'string' || path.length > MAX_PATH))
      throw ScimError.invalid('invalidPath', `${at}.path: must be a string of at most ${MAX_PATH}`);
    if (op === 'remove' && path === undefined)
      throw invalid('noTarget', `${at}.path: remove needs a path`);
    const hasValue = Object.hasOwn(raw as object, 'value');
    if (op !== 'remove' && !hasValue)
      throw invalid('invalidValue', `${at}.value: required for ${op}`);
    return {
      op,
      path,
      value: hasValue ? own(raw, 'value') : undefined,
      at,
    };
  });
}

/**
 * Applies checked operations to a copy of a resource, by our own schema-driven engine: every
 * path and every value key is resolved against the attribute definitions (unknown → 400
 * invalidPath or invalidValue), values are rebuilt under their schema names only, and nothing
 * is read from a prototype. The caller validates the result exactly as it validates a PUT.
 */
export function applyPatch(
  resource: Obj,
  ops: readonly PatchOperation[],
  kind: 'User' | 'Group',
): Obj {
  const schema = kind === 'User' ? USER_PATCH_SCHEMA : GROUP_PATCH_SCHEMA;
  const doc = JSON.parse(JSON.stringify(resource)) as Obj;
  for (const op of ops) {
    if (op.path !== undefined) apply(doc, schema, op, resolvePath(op.path, schema), op.value, true);
    else if (op.op === 'remove') throw invalid('noTarget', `${op.at}.path: remove needs a path`);
    else applyAll(doc, schema, op, op.value, undefined);
  }
  return doc;
}

/** A path-less add/replace (or one on the bare extension URN): each key of `value` is a path. */
function applyAll(
  doc: Obj,
  schema: PatchSchema,
  op: PatchOperation,
  value: unknown,
  extension: string | undefined,
): void {
  const where = extension ?? `${op.at}.value`;
  if (!isObject(value)) throw invalid('invalidValue', `${where}: must be an object of attributes`);
  for (const [key, v] of Object.entries(value)) {
    if (extension === undefined && key.toLowerCase() === 'schemas') {
      checkSchemas(schema, v, `${where}.schemas`);
      continue;
    }
    const path = extension === undefined ? key : `${extension}:${key}`;
    if (extension !== undefined && key.toLowerCase().startsWith('urn:'))
      throw ScimError.invalid(
        'invalidPath',
        `${JSON.stringify(`${where}.${key}`)}: not an attribute of ${extension}`,
      );
    const target = resolvePath(path, schema);
    // A path-less value is the resource's own attributes: a readOnly one that only repeats the
    // current value (Okta sends the group's id) changes nothing; any other is a modification.
    if (target.def?.mutability === 'readOnly' && !target.filter && !target.sub) {
      const current = own(container(doc, target, false), target.def.name);
      if (sameValue(current, v, 8)) continue;
    }
    apply(doc, schema, op, target, v, false);
  }
}

/** `schemas` in a path-less value: the resource's schemas follow from its content; any listed must be its own. */
function checkSchemas(schema: PatchSchema, v: unknown, where: string): void {
  const known = [schema.core.urn, ...schema.extensions.map((e) => e.urn)].map((u) =>
    u.toLowerCase(),
  );
  if (
    !Array.isArray(v) ||
    !v.every((s) => typeof s === 'string' && known.includes(s.toLowerCase()))
  )
    throw invalid('invalidValue', `${where}: only ${known.join(', ')}`);
}

/** Equal JSON values, bounded in depth (untrusted nesting never recurses further). */
function sameValue(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (a === undefined && Array.isArray(b)) return b.length === 0;
  if (depth === 0 || typeof a !== 'object' || typeof b !== 'object' || !a || !b) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every((k) => Object.hasOwn(b, k) && sameValue(own(a, k), own(b, k), depth - 1))
  );
}

/** The object an attribute lives in: the resource, or its extension object (created on demand). */
function container(doc: Obj, target: PatchTarget, create: boolean): Obj | undefined {
  if (target.extension === undefined) return doc;
  const ext = own(doc, target.extension);
  if (isObject(ext)) return ext;
  if (!create) return undefined;
  const made: Obj = {};
  doc[target.extension] = made;
  return made;
}

/** Drops an extension object that no longer holds anything. */
function prune(doc: Obj, target: PatchTarget): void {
  if (target.extension === undefined) return;
  const ext = own(doc, target.extension);
  if (isObject(ext) && Object.keys(ext).length === 0) delete doc[target.extension];
}

function apply(
  doc: Obj,
  schema: PatchSchema,
  op: PatchOperation,
  target: PatchTarget,
  value: unknown,
  explicit: boolean,
): void {
  const { def } = target;
  if (!def) {
    // The bare extension URN: the extension object as a whole.
    if (op.op !== 'remove' && value !== null)
      return applyAll(doc, schema, op, value, target.extension);
    delete doc[target.extension as string];
    return;
  }
  const removing = op.op === 'remove' || (value === null && !target.filter && !target.sub);
  checkMutability(schema, op, target, removing, explicit);
  const home = container(doc, target, !removing) as Obj;
  if (removing) {
    if (home) remove(home, target, op.op === 'remove' ? value : undefined);
    prune(doc, target);
    return;
  }
  if (def.multiValued) writeMulti(home, target, op, value);
  else if (def.type === 'complex') {
    const current = own(home, def.name);
    const patch = target.sub
      ? { [target.sub.name]: simpleValue(target.sub, value, target.text) }
      : complexValue(def, value, target.text, true);
    // add and replace alike merge into a singular complex attribute (RFC 7644 §3.5.2.1/.3).
    home[def.name] = { ...(isObject(current) ? current : {}), ...patch };
  } else home[def.name] = simpleValue(def, value, target.text);
}

/** RFC 7644 §3.5.2: readOnly never changes, immutable only gains a first value, required stays. */
function checkMutability(
  schema: PatchSchema,
  op: PatchOperation,
  target: PatchTarget,
  removing: boolean,
  explicit: boolean,
): void {
  const def = target.def as AttributeDef;
  const named = target.sub ?? def;
  const refuse = (why: string) => invalid('mutability', `${JSON.stringify(target.text)}: ${why}`);
  if (def.mutability === 'readOnly' || named.mutability === 'readOnly')
    throw refuse(
      `${named.name} is readOnly${explicit ? '' : ' (and differs from its current value)'}`,
    );
  if (named.mutability === 'immutable' && target.sub && (removing || op.op === 'replace'))
    throw refuse(`${named.name} is immutable`);
  if (removing && !target.filter && !target.sub) {
    if (def.required) throw refuse(`${def.name} is required`);
    if (schema.unassignable.some((n) => n.toLowerCase() === def.name.toLowerCase()))
      throw refuse(`${def.name} always has a value here: replace it with true or false`);
  }
}

function remove(home: Obj, target: PatchTarget, value: unknown): void {
  const def = target.def as AttributeDef;
  const current = own(home, def.name);
  if (!def.multiValued) {
    if (target.sub && isObject(current)) {
      delete current[target.sub.name];
      if (Object.keys(current).length === 0) delete home[def.name];
    } else if (!target.sub) delete home[def.name];
    return;
  }
  const list = Array.isArray(current) ? current : [];
  const byValue = value !== undefined && value !== null && def.type === 'complex';
  let selected: (e: unknown) => boolean = () => true;
  if (target.filter) {
    const filter = target.filter;
    selected = (e) => matches(filter, e, def);
  } else if (byValue) {
    // Entra ID removes members by value: `path: members, value: [{value: id}]`.
    const wanted = (Array.isArray(value) ? value : [value]).map((v) =>
      complexValue(def, v, target.text, false),
    );
    selected = (e) =>
      wanted.some((w) => Object.keys(w).every((k) => sameScalar(def, k, own(e, k), w[k])));
  }
  const hit = list.filter(selected);
  if ((target.filter || byValue) && hit.length === 0)
    throw invalid('noTarget', `${JSON.stringify(target.text)}: no value matches`);
  let rest: unknown[];
  if (target.sub) {
    const sub = target.sub.name;
    rest = list.flatMap((e: unknown): unknown[] => {
      if (!hit.includes(e) || !isObject(e)) return [e];
      delete e[sub];
      return Object.keys(e).length ? [e] : [];
    });
  } else rest = list.filter((e) => !hit.includes(e));
  if (rest.length) home[def.name] = rest;
  else delete home[def.name];
}

/** Equal sub-attribute values, by the sub-attribute's caseExact. */
function sameScalar(def: AttributeDef, name: string, a: unknown, b: unknown): boolean {
  const sub = findAttribute(def.subAttributes ?? [], name);
  if (typeof a === 'string' && typeof b === 'string' && sub && !sub.caseExact)
    return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

function writeMulti(home: Obj, target: PatchTarget, op: PatchOperation, value: unknown): void {
  const def = target.def as AttributeDef;
  const current = own(home, def.name);
  const list = Array.isArray(current) ? [...(current as unknown[])] : [];
  const element = (v: unknown, i: number) =>
    def.type === 'complex'
      ? complexValue(def, v, `${target.text}[${i}]`, false)
      : simpleValue(def, v, `${target.text}[${i}]`);
  let written: unknown[];
  if (target.filter || target.sub) {
    const filter = target.filter;
    const hit = filter ? list.filter((e) => matches(filter, e, def)) : list;
    const patch = target.sub
      ? { [target.sub.name]: simpleValue(target.sub, value, target.text) }
      : complexValue(def, value, target.text, false);
    if (hit.length === 0) {
      // Entra ID adds `emails[type eq "work"].value` to a user without one: the filter's
      // equalities describe the value to create. Any other filter that matches nothing is noTarget.
      const seed = filter ? equalities(filter, def) : {};
      if (!seed) throw invalid('noTarget', `${JSON.stringify(target.text)}: no value matches`);
      written = [{ ...seed, ...patch }];
      list.push(...written);
    } else {
      written = hit.map((e) => {
        const next =
          target.sub || op.op === 'add' ? { ...(isObject(e) ? e : {}), ...patch } : patch;
        list[list.indexOf(e)] = next;
        return next;
      });
    }
  } else {
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== null).map(element);
    if (op.op === 'replace') list.length = 0;
    const seen = new Set(list.map(key));
    written = values.filter((v) => !seen.has(key(v)) && seen.add(key(v)));
    list.push(...written);
  }
  // RFC 7644 §3.5.2: a value made primary makes every other value not primary.
  if (def.type === 'complex' && written.some((w) => isPrimary(own(w, 'primary'))))
    for (const [i, e] of list.entries())
      if (!written.includes(e) && isObject(e) && isPrimary(own(e, 'primary')))
        list[i] = { ...e, primary: false };
  if (list.length) home[def.name] = list;
  else delete home[def.name];
}

const isPrimary = (v: unknown) =>
  v === true || (typeof v === 'string' && v.toLowerCase() === 'true');

/** A stable identity for a value (keys sorted), to skip values already present. */
function key(v: unknown): string {
  return isObject(v)
    ? JSON.stringify(
        Object.keys(v)
          .sort()
          .map((k) => [k, v[k]]),
      )
    : JSON.stringify(v);
}

/** A value for a simple attribute: never an object (its type is checked by the validator). */
function simpleValue(def: AttributeDef, value: unknown, at: string): unknown {
  if (typeof value === 'object' && value !== null)
    throw invalid(
      'invalidValue',
      `${at}: ${def.name} takes a ${def.type}, not an object or a list`,
    );
  return value;
}

/**
 * A value for a complex attribute, rebuilt under its sub-attributes' schema names: an unknown
 * key is 400 invalidValue; readOnly sub-attributes are dropped as a PUT drops them. A singular
 * complex attribute with a `value` sub-attribute also takes that value alone (Entra ID sends a
 * manager as its id) or a one-element list.
 */
function complexValue(def: AttributeDef, value: unknown, at: string, singular: boolean): Obj {
  const subs = def.subAttributes ?? [];
  let v = value;
  if (singular && Array.isArray(v) && v.length === 1) v = v[0];
  if (singular && (typeof v === 'string' || typeof v === 'number') && findAttribute(subs, 'value'))
    v = { value: v };
  if (!isObject(v)) throw invalid('invalidValue', `${at}: ${def.name} takes an object`);
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const sub = findAttribute(subs, k);
    if (!sub) throw invalid('invalidValue', `${at}.${k}: not a sub-attribute of ${def.name}`);
    if (sub.mutability === 'readOnly') continue;
    out[sub.name] = simpleValue(sub, x, `${at}.${k}`);
  }
  return out;
}
