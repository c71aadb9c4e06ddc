import { foldEmail } from '@resolver/policy';
import fc from 'fast-check';
import type { IssuerConfig } from '@resolver/config';
import { isResolutionError } from '@resolver/reasons';
import type { VerifiedToken } from '@resolver/tokens';
import { lookupKeyFor } from './subject-key';

type Strategy = IssuerConfig['subject']['lookup'];
type Normalize = IssuerConfig['subject']['normalize'];

const issuer = (lookup: Strategy, normalize: Partial<Normalize> = {}): IssuerConfig =>
  ({
    issuer: 'https://idp/',
    subject: {
      claim: 'sub',
      lookup,
      normalize: { trim: false, nfc: true, lowercase: false, ...normalize },
      maxLength: 255,
    },
    tenant: { claim: 'tid', required: false },
  }) as IssuerConfig;

/** The key, or the reason it was refused; anything else thrown fails the property. */
function keyOf(cfg: IssuerConfig, claims: Record<string, unknown>): string | { reason: string } {
  try {
    const key = lookupKeyFor({ issuer: cfg, claims, subject: claims.sub } as VerifiedToken);
    return `${key.tenant}\u0000${key.subject}`;
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    return { reason: error.reason };
  }
}

// Characters that have merged or split identifiers in real systems: every kind of space, the
// BOM and zero-width characters, bidi controls, compatibility characters NFC rewrites (KELVIN
// SIGN, ANGSTROM SIGN, OHM SIGN), combining marks, case pairs, look-alikes, lone surrogates.
const TRICKY = [
  ' ',
  '\t',
  '\n',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2003',
  '\u2009',
  '\u202f',
  '\u205f',
  '\u3000',
  '\u2028',
  '\u2029',
  '\u0085',
  '\ufeff',
  '\u200b',
  '\u200c',
  '\u200d',
  '\u2060',
  '\u00ad',
  '\u180e',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\u200e',
  '\u200f',
  '\ufe0f',
  '\u212a',
  '\u212b',
  '\u2126',
  '\u0301',
  '\u0327',
  '\u030a',
  'K',
  'k',
  'A',
  'a',
  '\u00c5',
  '\u00e5',
  '\u0130',
  '\u0131',
  '\u0430',
  '\uff41',
  '\u00df',
  '\u1e9e',
  '\ud800',
  '\udfff',
  '\ufdd0',
  '\uffff',
  '@',
  '.',
  '-',
  '_',
  '|',
  '0',
  'f',
  'F',
  'e',
  'E',
];
const trickyString = fc
  .array(fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'binary', maxLength: 3 })), {
    maxLength: 12,
  })
  .map((parts) => parts.join(''));
const anySubject = fc.oneof(trickyString, fc.string({ unit: 'binary', maxLength: 24 }));
const emailLike = fc
  .tuple(trickyString, trickyString)
  .map(([local, domain]) => `${local || 'x'}@${domain || 'example.com'}`);
const uuidLike = fc
  .uuid()
  .chain((u) => fc.tuple(fc.constant(u), fc.array(fc.boolean(), { minLength: 36, maxLength: 36 })))
  .map(([u, upper]) => [...u].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));

/** A variant of `s` that tempts a merge: a tricky character in, a case flip, NFD, a trim. */
const variantOf = (s: string) =>
  fc.oneof(
    fc.constant(s.toUpperCase()),
    fc.constant(s.toLowerCase()),
    fc.constant(s.normalize('NFD')),
    fc.constant(s.normalize('NFKC')),
    fc.constant(s.trim()),
    fc
      .tuple(fc.constantFrom(...TRICKY), fc.nat({ max: s.length }))
      .map(([c, i]) => s.slice(0, i) + c + s.slice(i)),
  );

const STRATEGIES: [Strategy, fc.Arbitrary<string>, (s: string) => string][] = [
  ['external', anySubject, (s) => s],
  ['username', anySubject, (s) => s],
  ['email', fc.oneof(emailLike, anySubject), foldEmail],
  ['id', fc.oneof(uuidLike, anySubject), (s) => s.toLowerCase()],
];
const RUNS = { numRuns: 2_000 };

describe.each(STRATEGIES)('subject keys, lookup %s (property)', (lookup, arb, fold) => {
  const cfg = issuer(lookup);

  it('an accepted subject is its own canonical form (up to the lookup fold)', () => {
    fc.assert(
      fc.property(arb, (sub) => {
        const key = keyOf(cfg, { sub });
        if (typeof key === 'string') {
          expect(key).toBe(`\u0000${fold(sub)}`);
          expect(sub.normalize('NFC')).toBe(sub);
          expect(sub.trim()).toBe(sub);
        }
      }),
      RUNS,
    );
  });

  it('every refusal is SUBJECT_MALFORMED (or SUBJECT_MISSING when empty), never a crash', () => {
    fc.assert(
      fc.property(arb, (sub) => {
        const key = keyOf(cfg, { sub });
        if (typeof key !== 'string')
          expect(key.reason).toBe(sub === '' ? 'SUBJECT_MISSING' : 'SUBJECT_MALFORMED');
      }),
      RUNS,
    );
  });

  it('two accepted subjects share a key only when the lookup fold makes them equal', () => {
    fc.assert(
      fc.property(
        arb.chain((a) => fc.tuple(fc.constant(a), fc.oneof(variantOf(a), arb))),
        ([a, b]) => {
          const ka = keyOf(cfg, { sub: a });
          const kb = keyOf(cfg, { sub: b });
          if (typeof ka === 'string' && typeof kb === 'string')
            expect(ka === kb).toBe(fold(a) === fold(b));
        },
      ),
      RUNS,
    );
  });
});

describe('configured folds (property)', () => {
  it('lowercase: true merges exactly the subjects that lowercase to one string', () => {
    const cfg = issuer('external', { lowercase: true });
    fc.assert(
      fc.property(
        anySubject.chain((a) => fc.tuple(fc.constant(a), variantOf(a))),
        ([a, b]) => {
          const ka = keyOf(cfg, { sub: a });
          const kb = keyOf(cfg, { sub: b });
          if (typeof ka === 'string' && typeof kb === 'string')
            expect(ka === kb).toBe(a.toLowerCase() === b.toLowerCase());
        },
      ),
      RUNS,
    );
  });

  it('trim: true strips ASCII spaces only; the rest is validated as if untrimmed', () => {
    const trimming = issuer('external', { trim: true });
    const strict = issuer('external');
    fc.assert(
      fc.property(anySubject, fc.nat(3), fc.nat(3), (sub, before, after) => {
        const padded = `${' '.repeat(before)}${sub}${' '.repeat(after)}`;
        const stripped = padded.replace(/^ +| +$/g, '');
        expect(keyOf(trimming, { sub: padded })).toEqual(
          stripped === '' ? { reason: 'SUBJECT_MISSING' } : keyOf(strict, { sub: stripped }),
        );
      }),
      RUNS,
    );
  });
});

describe('tenant values (property)', () => {
  it('an accepted tenant is the claim value itself; a refusal is CLAIM_INVALID', () => {
    const cfg = issuer('external');
    fc.assert(
      fc.property(anySubject, (tid) => {
        const key = keyOf(cfg, { sub: 'alice', tid });
        if (typeof key === 'string') expect(key).toBe(`${tid}\u0000alice`);
        else expect(key.reason).toBe('CLAIM_INVALID');
      }),
      RUNS,
    );
  });

  it('two accepted tenants never share a key', () => {
    const cfg = issuer('external');
    fc.assert(
      fc.property(
        anySubject.chain((a) => fc.tuple(fc.constant(a), variantOf(a))),
        ([a, b]) => {
          const ka = keyOf(cfg, { sub: 'alice', tid: a });
          const kb = keyOf(cfg, { sub: 'alice', tid: b });
          if (typeof ka === 'string' && typeof kb === 'string') expect(ka === kb).toBe(a === b);
        },
      ),
      RUNS,
    );
  });
});
