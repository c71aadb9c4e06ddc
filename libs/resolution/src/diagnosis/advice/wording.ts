/**
 * How operator text shows values it did not choose: claims and headers of any JSON type (or
 * absent), and stored fields that may be empty. Never `undefined`, `null`, `NaN`, `""` or
 * `[object Object]` where the reader expects a value: each is said in words.
 */

const MAX_ITEMS = 5;

/** A token or store value in a sentence: a non-empty string quoted, anything else described. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return value === '' ? 'an empty string' : JSON.stringify(value);
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : 'a number out of range';
  if (typeof value === 'boolean') return String(value);
  if (value === undefined) return 'absent';
  if (value === null) return 'no value';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty list';
    const items = value.slice(0, MAX_ITEMS).map(shown);
    return `[${items.join(', ')}${value.length > MAX_ITEMS ? `, … ${value.length} in all` : ''}]`;
  }
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A name shown unquoted where it is one (an algorithm), else described as {@link shown} does. */
export function plain(value: unknown): string {
  return isText(value) ? value : shown(value);
}

/** A usable string: what an identifier, a URL or a header value has to be. */
export function isText(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Where a user or key lives, as a phrase: `in tenant "acme"`, or `without a tenant` (''). */
export function inTenant(tenant: string): string {
  return tenant ? `in tenant ${JSON.stringify(tenant)}` : 'without a tenant';
}
