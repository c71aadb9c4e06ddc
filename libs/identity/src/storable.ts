/**
 * What every writer's input must be before it goes near the store (admin, import, SCIM; any
 * later writer too). A value Postgres cannot hold is refused at the edge with the field named,
 * never sent to fail there: a store error would read as an outage (503, retried forever), and a
 * value the driver silently rewrites (a lone surrogate becomes U+FFFD, `1e400` becomes null) is
 * a corrupted record. Keys that name a prototype are refused too: untrusted JSON never reaches one.
 */

/** Why a value cannot be stored, and where (`emails[0].value`, `attributes.x`). */
export interface Unstorable {
  readonly path: string;
  readonly problem: string;
}

/** The longest `jti` the deny-list takes (and so the longest that can be revoked). */
export const MAX_JTI_LENGTH = 512;

/** Deeper than this is refused: no identity record nests this far, and the walk stays bounded. */
export const MAX_INPUT_DEPTH = 32;

/** Member names that would reach a prototype if a JavaScript object were built from them. */
export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
]);

/** Why a string cannot be stored: U+0000 (text and jsonb refuse it) or a lone surrogate. */
export function unstorableText(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains U+0000, which cannot be stored';
  if (!value.isWellFormed()) return 'contains a lone surrogate (not valid Unicode)';
  return undefined;
}

// The dates every answer can carry (RFC 3339 and google.protobuf.Timestamp stop at years 1 and
// 9999); Postgres holds a wider range, JavaScript a different one (+275760 parses, 0 and "2020"
// parse as dates Postgres may read otherwise), so the narrower rule decides.
const MIN_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Why a date cannot be stored: invalid, or outside years 1 to 9999. */
export function unstorableDate(value: Date): string | undefined {
  const ms = value.getTime();
  if (Number.isNaN(ms)) return 'is not a date';
  if (ms < MIN_MS || ms > MAX_MS) return 'is outside the years 1 to 9999';
  return undefined;
}

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/**
 * The first value in parsed JSON input (a body, a query, a row) that cannot be stored as it is:
 * a string or member name with U+0000 or a lone surrogate, a number JSON parsed to Infinity, a
 * member named `__proto__`, `constructor` or `prototype`, or nesting deeper than
 * {@link MAX_INPUT_DEPTH}. Own keys only; iterative, so hostile depth cannot exhaust the stack.
 */
export function findUnstorable(input: unknown, prefix = ''): Unstorable | undefined {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value: input, path: prefix, depth: 0 },
  ];
  while (stack.length) {
    const { value, path, depth } = stack.pop() as (typeof stack)[number];
    if (typeof value === 'string') {
      const problem = unstorableText(value);
      if (problem) return { path, problem };
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return { path, problem: 'is a number outside the JSON range' };
    } else if (typeof value === 'object' && value !== null) {
      if (depth >= MAX_INPUT_DEPTH)
        return { path, problem: `nests deeper than ${MAX_INPUT_DEPTH} levels` };
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--)
          stack.push({ value: value[i] as unknown, path: join(path, i), depth: depth + 1 });
        continue;
      }
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const at = join(path, key);
        if (PROTOTYPE_KEYS.has(key)) return { path: at, problem: 'is not an allowed name' };
        const problem = unstorableText(key);
        if (problem) return { path: at, problem: `(the name) ${problem}` };
        stack.push({
          value: (value as Record<string, unknown>)[key],
          path: at,
          depth: depth + 1,
        });
      }
    }
  }
  return undefined;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * An RFC 3339 date-time (`xsd:dateTime` with a zone) that Postgres and every answer can hold, or
 * undefined: a full date and time with a zone, a real calendar day, within years 1 to 9999.
 * `Date.parse` alone accepts `"2020"`, `"0"` and `"+275760-09-13T00:00:00Z"`, which Postgres
 * reads differently or not at all.
 */
export function parseDateTime(value: string): Date | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // Built from the parts, so a day the month lacks (2021-02-29) shows as another date.
  const built = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  built.setUTCFullYear(year);
  const zoneOk = m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  if (
    built.getUTCMonth() !== month - 1 ||
    built.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    !zoneOk
  )
    return undefined;
  const parsed = new Date(value);
  return unstorableDate(parsed) ? undefined : parsed;
}
