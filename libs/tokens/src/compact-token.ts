import { ResolutionError } from '@resolver/reasons';

/** A token whose shape was checked and whose header and payload were decoded, but not trusted. */
export interface DecodedToken {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly sizeBytes: number;
  readonly signatureLength: number;
  /**
   * An opaque token's introspection answer in the place of a payload (no header, no signature):
   * the claim steps check it as RFC 7662 answers are checked.
   */
  readonly introspected?: true;
}

const BASE64URL_SEGMENT = /^[A-Za-z0-9_-]*$/;

/** Deeper header or claim JSON than this is refused: real tokens nest a few levels at most. */
export const MAX_JSON_DEPTH = 16;

/**
 * Header parameters that make a compact token something other than a plain signed JWT: critical
 * extensions (we understand none), unencoded payloads (RFC 7797, never valid for a JWT), and the
 * JWE-only parameters.
 */
const REFUSED_HEADER_PARAMETERS = ['crit', 'b64', 'zip', 'enc'] as const;

// ignoreBOM keeps a leading U+FEFF in the text (the default strips it silently), so JSON.parse
// refuses it: RFC 8259 §8.1 forbids a BOM in JSON text exchanged between systems, and RFC 7519
// tokens are JSON text.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks size and shape before any parsing that could be expensive or confused: JWS compact
 * serialisation only (three canonical base64url segments, strict UTF-8 JSON object header and
 * payload without duplicate member names, bounded nesting). Five segments is a JWE, which the
 * pipeline's decrypt step reads (formats/jwe.ts) and never hands here; nested JWTs (`cty: JWT`),
 * `crit`, `b64` and JWE header parameters are refused in a JWS. Throws `TOKEN_TOO_LARGE` /
 * `TOKEN_MALFORMED`.
 */
export function decodeCompactToken(token: string, maxBytes: number): DecodedToken {
  // Length in UTF-16 units bounds the byte length from below; check cheaply first.
  const sizeBytes = token.length > maxBytes ? token.length : Buffer.byteLength(token, 'utf8');
  if (sizeBytes > maxBytes) {
    throw new ResolutionError('TOKEN_TOO_LARGE', `token exceeds ${maxBytes} bytes`);
  }
  const segments = token.split('.');
  if (segments.length !== 3) {
    throw new ResolutionError(
      'TOKEN_MALFORMED',
      segments.length === 5
        ? 'JWE tokens are not accepted'
        : `expected 3 segments, got ${segments.length}`,
    );
  }
  const [h, p, s] = segments as [string, string, string];
  if (
    !h ||
    !p ||
    !BASE64URL_SEGMENT.test(h) ||
    !BASE64URL_SEGMENT.test(p) ||
    !BASE64URL_SEGMENT.test(s)
  ) {
    throw new ResolutionError('TOKEN_MALFORMED', 'segments must be non-empty base64url');
  }
  // Decoders ignore the unused low bits of the last character, so without this check one
  // signature would have several spellings (a malleable token defeats hash-keyed caches and
  // deny-lists).
  if (!canonicalTail(s))
    throw new ResolutionError('TOKEN_MALFORMED', 'signature is not canonical base64url');
  const header = decodeJsonSegment(h, 'header');
  const payload = decodeJsonSegment(p, 'payload');
  if (typeof header.alg !== 'string' || header.alg === '') {
    throw new ResolutionError('TOKEN_MALFORMED', 'header "alg" must be a non-empty string');
  }
  for (const name of REFUSED_HEADER_PARAMETERS) {
    if (name in header)
      throw new ResolutionError('TOKEN_MALFORMED', `header parameter "${name}" is not accepted`);
  }
  if (typeof header.cty === 'string' && /^(application\/)?jwt$/i.test(header.cty)) {
    throw new ResolutionError('TOKEN_MALFORMED', 'nested JWTs (cty: JWT) are not accepted');
  }
  return {
    header,
    payload,
    sizeBytes,
    signatureLength: s.length,
  };
}

/** Each base64url character's 6-bit value, by char code (-1: not base64url). */
const BASE64URL_VALUES = (() => {
  const values = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) values[alphabet.charCodeAt(i)] = i;
  return values;
})();

/**
 * Whether a segment of base64url characters (checked by the caller) is the one canonical
 * spelling of its bytes: no length of 1 mod 4 (no byte string has it), and the bits the last
 * character carries beyond the last whole byte are zero (decoders ignore them, so they would
 * give one signature several spellings). O(1): the same answer as decoding and re-encoding the
 * segment, which was a visible cost of every new token (held equal by compact-token.spec.ts).
 */
function canonicalTail(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  const value = BASE64URL_VALUES[segment.charCodeAt(segment.length - 1)] ?? -1;
  return value >= 0 && (value & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** Base64url characters only, in their one canonical spelling (see {@link canonicalTail}). */
export function isCanonicalBase64url(segment: string): boolean {
  return BASE64URL_SEGMENT.test(segment) && canonicalTail(segment);
}

/**
 * One base64url segment of strict JSON: canonical base64url, UTF-8 without a BOM, an object
 * with no duplicate member names and bounded nesting, copied to own data. TOKEN_MALFORMED naming
 * `what` otherwise.
 */
export function decodeJsonObject(segment: string, what: string): Record<string, unknown> {
  // base64url without padding: a length of 1 mod 4 cannot come from any byte string.
  if (!isCanonicalBase64url(segment))
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not canonical base64url`);
  return decodeJsonSegment(segment, what);
}

/** {@link decodeJsonObject} of a segment whose characters the caller checked. */
function decodeJsonSegment(segment: string, what: string): Record<string, unknown> {
  if (!canonicalTail(segment))
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not canonical base64url`);
  let text: string;
  try {
    text = utf8.decode(Buffer.from(segment, 'base64url'));
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not UTF-8`);
  }
  // Structure first (bounded depth, no duplicate names), so JSON.parse never sees a hostile shape
  // and the member we read is the only one any other parser could read.
  checkJsonStructure(text, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ResolutionError('TOKEN_MALFORMED', `${what} is not a JSON object`);
  }
  return ownData(value) as Record<string, unknown>;
}

/**
 * Parsed JSON whose every object has no prototype, so a claim the token does not carry reads as
 * `undefined` even if something has written onto `Object.prototype` (a polluted `tid` must never
 * become every token's tenant). Member names, `__proto__` included, stay plain own data. Made in
 * place, for a value `JSON.parse` has just made and nothing else holds (every caller's): setting
 * each object's prototype keeps V8's fast properties, where a null-prototype copy filled key by
 * key is a dictionary (1.3-2 µs less per header and payload, and cheaper claim reads after).
 * Arrays keep their prototype.
 */
export function ownData(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) ownData(item);
    return value;
  }
  Object.setPrototypeOf(value, null);
  for (const key of Object.keys(value)) ownData((value as Record<string, unknown>)[key]);
  return value;
}

/**
 * A claim (or any member) of untrusted JSON as an own property only: inherited properties are
 * never read as claims, whatever object the claims arrived in.
 */
export function own(object: object, name: string): unknown {
  return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

interface Frame {
  readonly keys?: Set<string>;
  expectKey: boolean;
}

/**
 * One linear pass over (possibly invalid) JSON text: refuses nesting deeper than
 * {@link MAX_JSON_DEPTH} and duplicate member names in any object (`JSON.parse` keeps the last
 * one, other parsers the first: a parser differential an attacker can use). Names are compared
 * after unescaping, so `"sub"` and `"\u0073ub"` are duplicates. Invalid JSON that slips through
 * is refused by `JSON.parse` afterwards.
 */
export function checkJsonStructure(text: string, what = 'JSON'): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      while (j < text.length && text.charCodeAt(j) !== QUOTE) {
        if (text.charCodeAt(j) === BACKSLASH) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        // A name without escapes is its own text; only an escaped one needs unescaping.
        let name: unknown = escaped ? undefined : text.slice(i + 1, j);
        if (escaped)
          try {
            name = JSON.parse(text.slice(i, j + 1));
          } catch {
            throw new ResolutionError('TOKEN_MALFORMED', `${what} is not JSON`);
          }
        if (top.keys.has(name as string)) {
          throw new ResolutionError('TOKEN_MALFORMED', `${what} has a duplicate member name`);
        }
        top.keys.add(name as string);
        top.expectKey = false;
      }
      i = j;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (stack.length >= MAX_JSON_DEPTH) {
        throw new ResolutionError(
          'TOKEN_MALFORMED',
          `${what} nests deeper than ${MAX_JSON_DEPTH} levels`,
        );
      }
      stack.push(c === OPEN_BRACE ? { keys: new Set(), expectKey: true } : { expectKey: false });
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
    } else if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
}
