import { ScimError } from './scim-error';

export type Comparator = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';
export type CompValue = string | number | boolean | null;

/** A parsed SCIM filter (RFC 7644 §3.4.2.2), attribute paths still as written. */
export type FilterNode =
  | { readonly op: 'and' | 'or'; readonly left: FilterNode; readonly right: FilterNode }
  | { readonly op: 'not'; readonly of: FilterNode }
  | {
      readonly op: 'compare';
      readonly path: string;
      readonly comparator: Comparator;
      readonly value: CompValue;
    }
  | { readonly op: 'present'; readonly path: string }
  /** `emails[type eq "work"]`, optionally followed by `.value eq "x"` (or `.value pr`). */
  | {
      readonly op: 'valuePath';
      readonly path: string;
      readonly filter: FilterNode;
      readonly sub?: {
        readonly attribute: string;
        readonly comparator: Comparator | 'pr';
        readonly value: CompValue;
      };
    };

const MAX_FILTER_LENGTH = 4_096;
const MAX_DEPTH = 32;
const COMPARATORS = new Set<string>(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']);

type Token = { t: 'word'; v: string } | { t: 'value'; v: CompValue } | { t: '(' | ')' | '[' | ']' };

const fail = (detail: string): never => {
  throw ScimError.invalid('invalidFilter', `filter: ${detail}`);
};

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '(' || c === ')' || c === '[' || c === ']') {
      out.push({ t: c });
      i++;
    } else if (c === '"') {
      // A JSON string, escapes included.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) fail('unterminated string');
      try {
        out.push({ t: 'value', v: JSON.parse(text.slice(i, j + 1)) as string });
      } catch {
        fail(`invalid string ${text.slice(i, j + 1)}`);
      }
      i = j + 1;
    } else {
      const m = /^[A-Za-z0-9_:.$+-]+/.exec(text.slice(i));
      if (!m) return fail(`unexpected character ${JSON.stringify(c)} at ${i}`);
      const word = m[0];
      const lower = word.toLowerCase();
      if (lower === 'true' || lower === 'false') out.push({ t: 'value', v: lower === 'true' });
      else if (lower === 'null') out.push({ t: 'value', v: null });
      else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(word))
        out.push({ t: 'value', v: Number(word) });
      else out.push({ t: 'word', v: word });
      i += word.length;
    }
  }
  return out;
}

/** Parses a SCIM filter; throws `400 invalidFilter` naming what is wrong. */
export function parseFilter(text: string): FilterNode {
  if (text.length > MAX_FILTER_LENGTH) fail(`longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const keyword = (k: string) => {
    const t = peek();
    return t?.t === 'word' && t.v.toLowerCase() === k;
  };
  const expect = (t: Token['t']) => {
    if (peek()?.t !== t) fail(`expected "${t}" at token ${pos + 1}`);
    pos++;
  };

  const attrPath = (): string => {
    const t = peek();
    if (t?.t !== 'word' || !/^[A-Za-z$]/.test(t.v) || COMPARATORS.has(t.v.toLowerCase()))
      return fail(`expected an attribute name at token ${pos + 1}`);
    pos++;
    return t.v;
  };
  const comparison = (): { comparator: Comparator | 'pr'; value: CompValue } => {
    const t = peek();
    const op = t?.t === 'word' ? t.v.toLowerCase() : '';
    if (op === 'pr') {
      pos++;
      return { comparator: 'pr', value: null };
    }
    if (!COMPARATORS.has(op)) return fail(`expected an operator at token ${pos + 1}`);
    pos++;
    const v = peek();
    if (v?.t !== 'value') return fail(`expected a value after "${op}"`);
    pos++;
    return { comparator: op as Comparator, value: v.v };
  };

  const or = (depth: number, inBrackets: boolean): FilterNode => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    let left = and(depth, inBrackets);
    while (keyword('or')) {
      pos++;
      left = { op: 'or', left, right: and(depth, inBrackets) };
    }
    return left;
  };
  const and = (depth: number, inBrackets: boolean): FilterNode => {
    let left = not(depth, inBrackets);
    while (keyword('and')) {
      pos++;
      left = { op: 'and', left, right: not(depth, inBrackets) };
    }
    return left;
  };
  const not = (depth: number, inBrackets: boolean): FilterNode => {
    if (keyword('not') && tokens[pos + 1]?.t === '(') {
      pos++;
      return { op: 'not', of: atom(depth, inBrackets) };
    }
    return atom(depth, inBrackets);
  };
  const atom = (depth: number, inBrackets: boolean): FilterNode => {
    if (peek()?.t === '(') {
      pos++;
      const inner = or(depth + 1, inBrackets);
      expect(')');
      return inner;
    }
    const path = attrPath();
    if (peek()?.t === '[') {
      if (inBrackets) fail('a [filter] inside a [filter]');
      pos++;
      const filter = or(depth + 1, true);
      expect(']');
      const next = peek();
      if (next?.t === 'word' && next.v.startsWith('.')) {
        pos++;
        const attribute = next.v.slice(1);
        if (!/^[A-Za-z$][A-Za-z0-9_$-]*$/.test(attribute)) fail(`invalid sub-attribute ${next.v}`);
        return { op: 'valuePath', path, filter, sub: { attribute, ...comparison() } };
      }
      return { op: 'valuePath', path, filter };
    }
    const c = comparison();
    return c.comparator === 'pr'
      ? { op: 'present', path }
      : { op: 'compare', path, comparator: c.comparator, value: c.value };
  };

  if (!tokens.length) fail('empty');
  const node = or(0, false);
  if (pos !== tokens.length) fail(`unexpected token ${pos + 1}`);
  return node;
}
