/**
 * What an identifier (subject, client id, tenant, email, username) must look like to be looked up
 * or stored. The resolver never rewrites one identifier into another: a value that is not already
 * in its canonical form is refused, so two values the identity provider treats as different can
 * never land on one user. The only folds are the ones an operator configures (`lowercase`, the
 * ASCII-only `trim`) and the documented ones of a lookup ({@link foldEmail}, UUID hex case).
 */

/** Why a value is not canonical, with the first offending code point. */
export interface NonCanonical {
  /** The code point as `U+XXXX`. */
  readonly codePoint: string;
  /** Its 0-based index, counted in code points. */
  readonly index: number;
  /** What is wrong with it, in a few words. */
  readonly problem: string;
}

export interface CanonicalRules {
  /** Require Unicode NFC (default true). When false, non-NFC values are compared exactly as sent. */
  readonly nfc?: boolean;
}

// Characters that are invisible, change how neighbours render or read, or are not text at all:
// each lets two identifiers look alike while differing, or one identifier be spelt two ways.
// (Default_Ignorable covers the zero-width characters, soft hyphen, variation selectors and the
// BOM; Bidi_Control the directional overrides; Zl/Zp are line and paragraph separators.)
const FORBIDDEN: readonly (readonly [RegExp, string])[] = [
  [/\p{Cc}/u, 'control character'],
  [/\p{Bidi_Control}/u, 'bidirectional control'],
  [/\p{Cf}/u, 'format character'],
  [/\p{Default_Ignorable_Code_Point}/u, 'default-ignorable character'],
  [/\p{Noncharacter_Code_Point}/u, 'noncharacter'],
  [/[\p{Zl}\p{Zp}]/u, 'line or paragraph separator'],
];
// One pass for the common case: none of the above anywhere, no lone surrogate.
const ANY_FORBIDDEN =
  /[\p{Cc}\p{Cf}\p{Bidi_Control}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\p{Zl}\p{Zp}]/u;
const WHITESPACE = /^\p{White_Space}$/u;
const EDGE_WHITESPACE = /^\p{White_Space}|\p{White_Space}$/u;

/** `U+XXXX` for a code point. */
export function codePointLabel(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first reason `value` is not canonical, or undefined when it is: no lone surrogate, no
 * control, format, default-ignorable, bidi-control, separator or noncharacter code point
 * anywhere, no whitespace of any kind at either end, and (unless `rules.nfc` is false) already
 * in NFC. Interior spaces are allowed: they do not make two identifiers collide.
 */
export function findNonCanonical(
  value: string,
  rules: CanonicalRules = {},
): NonCanonical | undefined {
  const nfc = rules.nfc ?? true;
  if (
    value.isWellFormed() &&
    !ANY_FORBIDDEN.test(value) &&
    !EDGE_WHITESPACE.test(value) &&
    (!nfc || value.normalize('NFC') === value)
  ) {
    return undefined;
  }
  const cps = [...value];
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i] as string;
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff)
      return { codePoint: codePointLabel(cp), index: i, problem: 'unpaired surrogate' };
    for (const [pattern, problem] of FORBIDDEN) {
      if (pattern.test(ch)) return { codePoint: codePointLabel(cp), index: i, problem };
    }
  }
  const first = cps[0] as string;
  if (WHITESPACE.test(first)) {
    return {
      codePoint: codePointLabel(first.codePointAt(0) as number),
      index: 0,
      problem: 'leading whitespace',
    };
  }
  const last = cps[cps.length - 1] as string;
  if (WHITESPACE.test(last)) {
    return {
      codePoint: codePointLabel(last.codePointAt(0) as number),
      index: cps.length - 1,
      problem: 'trailing whitespace',
    };
  }
  // Not NFC: the first code point whose prefix stops being NFC (a compatibility character such
  // as U+212A KELVIN SIGN, or a combining mark that composes with its base).
  for (let i = 1; nfc && i <= cps.length; i++) {
    const prefix = cps.slice(0, i).join('');
    if (prefix.normalize('NFC') !== prefix) {
      return {
        codePoint: codePointLabel((cps[i - 1] as string).codePointAt(0) as number),
        index: i - 1,
        problem: 'not in Unicode NFC (normalisation would rewrite it)',
      };
    }
  }
  return undefined;
}

/** One line for an operator: `U+3000 (trailing whitespace) at code point 5`. */
export function describeNonCanonical(found: NonCanonical): string {
  return `${found.codePoint} (${found.problem}) at code point ${found.index}`;
}

/**
 * The email fold: ASCII letters compared without case, everything else exactly. Injective on
 * what it accepts up to ASCII case: two addresses fold to one key only if they differ in the
 * case of ASCII letters alone. (Full Unicode lowercasing would merge, for instance, U+212A KELVIN
 * SIGN into "k", and Postgres' `lower()` depends on the database's locale.)
 */
export function foldEmail(email: string): string {
  return email.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** The SQL expression of {@link foldEmail} (indexable: `translate` is immutable). */
export const FOLD_EMAIL_SQL = (column: string): string =>
  `translate(${column}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')`;
