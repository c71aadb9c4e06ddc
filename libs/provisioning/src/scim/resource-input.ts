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

/** Bounds on one resource: values per multi-valued attribute, characters per string. */
export interface InputLimits {
  readonly maxValues: number;
}

const MAX_STRING = 2_048;
/** Attributes the service answers itself: accepted in input and ignored (RFC 7644 §3.3). */
const IGNORED = new Set(['id', 'meta', 'schemas']);

const invalid = (detail: string) => ScimError.invalid('invalidValue', detail);

/** A value of a simple attribute, type-checked; `"True"`/`"False"` are accepted for booleans (Entra ID sends them). */
function simple(def: AttributeDef, value: unknown, at: string): unknown {
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value))
        return value.toLowerCase() === 'true';
      throw invalid(`${at}: must be a boolean`);
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      throw invalid(`${at}: must be an integer`);
    case 'decimal':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      throw invalid(`${at}: must be a number`);
    case 'dateTime':
      if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
      throw invalid(`${at}: must be an xsd:dateTime`);
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value !== 'string') throw invalid(`${at}: must be a string`);
      if (value.length > MAX_STRING) throw invalid(`${at}: longer than ${MAX_STRING} characters`);
      return value;
    case 'complex':
      throw invalid(`${at}: must be an object`);
  }
}

function complexValue(
  def: AttributeDef,
  value: unknown,
  at: string,
  limits: InputLimits,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${at}: must be an object`);
  return attributes(def.subAttributes ?? [], value as Record<string, unknown>, at, limits, false);
}

function attributeValue(
  def: AttributeDef,
  value: unknown,
  at: string,
  limits: InputLimits,
): unknown {
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length > limits.maxValues)
      throw ScimError.invalid('tooMany', `${at}: more than ${limits.maxValues} values`);
    const out = list
      .filter((v) => v !== null)
      .map((v, i) =>
        def.type === 'complex'
          ? complexValue(def, v, `${at}[${i}]`, limits)
          : simple(def, v, `${at}[${i}]`),
      );
    if (
      def.type === 'complex' &&
      out.filter((v) => (v as { primary?: unknown }).primary === true).length > 1
    )
      throw invalid(`${at}: at most one value may be primary`);
    return out;
  }
  if (def.type !== 'complex') return simple(def, value, at);
  // Entra ID sends a manager as its id (a string) or as a one-element list: both mean {value}.
  const hasValue = def.subAttributes?.some((d) => d.name === 'value');
  if (hasValue && typeof value === 'string') return complexValue(def, { value }, at, limits);
  if (Array.isArray(value) && value.length === 1) return complexValue(def, value[0], at, limits);
  return complexValue(def, value, at, limits);
}

/**
 * Validates attributes against their definitions: names folded to their canonical spelling,
 * unknown names refused (400 invalidSyntax), wrong types refused (400 invalidValue), readOnly
 * and null values dropped, writeOnly values dropped (nothing here stores passwords).
 */
function attributes(
  defs: readonly AttributeDef[],
  input: Record<string, unknown>,
  at: string,
  limits: InputLimits,
  top: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const where = at ? `${at}.${key}` : key;
    if (top && (IGNORED.has(key.toLowerCase()) || key.toLowerCase() === 'externalid')) continue;
    const def = findAttribute(defs, key);
    if (!def) throw ScimError.invalid('invalidSyntax', `${where}: unknown attribute`);
    if (value === null || def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue;
    out[def.name] = attributeValue(def, value, where, limits);
  }
  return out;
}

/** A User or Group body, validated: what is stored, with `active` apart (it is a status). */
export interface ValidatedResource {
  readonly attributes: Record<string, unknown>;
  /** Absent when the body does not say (a create then means true; a replace keeps the status). */
  readonly active: boolean | undefined;
}

/** Validates a User (`kind` User) or Group body as POST or PUT sends it. */
export function validateResource(
  body: unknown,
  kind: 'User' | 'Group',
  limits: InputLimits,
): ValidatedResource {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw ScimError.invalid('invalidSyntax', 'the body must be a JSON object');
  const input = body as Record<string, unknown>;
  const core = kind === 'User' ? USER_SCHEMA : GROUP_SCHEMA;
  const allowed = kind === 'User' ? [USER_SCHEMA, ENTERPRISE_SCHEMA] : [GROUP_SCHEMA];
  const schemasKey = Object.keys(input).find((k) => k.toLowerCase() === 'schemas');
  const schemas = schemasKey === undefined ? undefined : input[schemasKey];
  if (
    !Array.isArray(schemas) ||
    !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === core.toLowerCase())
  )
    throw ScimError.invalid('invalidSyntax', `schemas: must list ${core}`);
  for (const s of schemas) {
    if (typeof s !== 'string' || !allowed.some((a) => a.toLowerCase() === s.toLowerCase()))
      throw ScimError.invalid('invalidSyntax', `schemas: unknown schema ${JSON.stringify(s)}`);
  }
  // Null-prototype: a key such as "__proto__" stays an own key here, and is refused below as
  // the unknown attribute it is, instead of setting this object's prototype.
  const coreInput = Object.create(null) as Record<string, unknown>;
  let enterprise: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(input)) {
    const lower = key.toLowerCase();
    if (kind === 'User' && lower === ENTERPRISE_SCHEMA.toLowerCase()) {
      if (value === null) continue;
      if (typeof value !== 'object' || Array.isArray(value))
        throw invalid(`${ENTERPRISE_SCHEMA}: must be an object`);
      enterprise = attributes(
        ENTERPRISE_ATTRIBUTES,
        value as Record<string, unknown>,
        ENTERPRISE_SCHEMA,
        limits,
        false,
      );
    } else if (lower.startsWith(`${core.toLowerCase()}:`)) {
      coreInput[key.slice(core.length + 1)] = value;
    } else if (lower.startsWith('urn:')) {
      throw ScimError.invalid('invalidSyntax', `${key}: unknown schema extension`);
    } else {
      coreInput[key] = value;
    }
  }
  const defs = kind === 'User' ? USER_ATTRIBUTES : GROUP_ATTRIBUTES;
  const out = attributes(defs, coreInput, '', limits, true);
  const externalKey = Object.keys(coreInput).find((k) => k.toLowerCase() === 'externalid');
  if (externalKey !== undefined && coreInput[externalKey] !== null) {
    const v = coreInput[externalKey];
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024)
      throw invalid('externalId: must be a non-empty string of at most 1024 characters');
    out.externalId = v;
  }
  delete out.active;
  const activeKey = Object.keys(coreInput).find((k) => k.toLowerCase() === 'active');
  const activeDef = findAttribute(USER_ATTRIBUTES, 'active') as AttributeDef;
  const active =
    kind === 'User' && activeKey !== undefined && coreInput[activeKey] !== null
      ? (simple(activeDef, coreInput[activeKey], 'active') as boolean)
      : undefined;
  if (enterprise && Object.keys(enterprise).length) out[ENTERPRISE_SCHEMA] = enterprise;
  const required = kind === 'User' ? 'userName' : 'displayName';
  const v = out[required];
  if (typeof v !== 'string' || v.trim() === '')
    throw invalid(`${required}: required, a non-empty string`);
  if (v.length > 255) throw invalid(`${required}: longer than 255 characters`);
  return { attributes: out, active };
}
