import fc from 'fast-check';
import {
  type AlgorithmCase,
  bothVerdicts,
  buildCase,
  CASE_LABELS,
  generateTestKeys,
  jose6Verdict,
  withSignature,
} from './testing/signature-differential';

/**
 * Random damage to valid tokens' signatures, for every algorithm: jose 5.10's `compactVerify`
 * (what the step ran before) and the resolver's `node:crypto` step must give the same answer on
 * each, and so must jose 6 on the byte mutations, where it implements the algorithm (see
 * signature.differential.spec.ts for the hand-picked shapes and the RFC vectors).
 */

type Mutation =
  | { readonly op: 'flip'; readonly at: number }
  | { readonly op: 'set'; readonly at: number; readonly value: number }
  | { readonly op: 'insert'; readonly at: number; readonly value: number }
  | { readonly op: 'delete'; readonly at: number }
  | { readonly op: 'truncate'; readonly to: number }
  | { readonly op: 'append'; readonly bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), to: fc.nat() }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ maxLength: 8 }) }),
);

function mutate(signature: Buffer, mutations: readonly Mutation[]): Buffer {
  let sig = Buffer.from(signature);
  for (const m of mutations) {
    const at = 'at' in m && sig.length > 0 ? m.at % sig.length : 0;
    switch (m.op) {
      case 'flip':
        if (sig.length > 0) sig[at >> 3] = (sig[at >> 3] as number) ^ (1 << (at & 7));
        break;
      case 'set':
        if (sig.length > 0) sig[at] = m.value;
        break;
      case 'insert':
        sig = Buffer.concat([sig.subarray(0, at), Buffer.of(m.value), sig.subarray(at)]);
        break;
      case 'delete':
        sig = Buffer.concat([sig.subarray(0, at), sig.subarray(at + 1)]);
        break;
      case 'truncate':
        sig = sig.subarray(0, m.to % (sig.length + 1));
        break;
      case 'append':
        sig = Buffer.concat([sig, m.bytes]);
        break;
    }
  }
  return sig;
}

let cases: AlgorithmCase[];

beforeAll(async () => {
  const keys = generateTestKeys();
  cases = await Promise.all(CASE_LABELS.map(([label, alg]) => buildCase(keys, label, alg)));
}, 60_000);

const caseIndex = fc.nat({ max: CASE_LABELS.length - 1 });

it('random mutations of a valid signature get the same answer from jose and the resolver', async () => {
  await fc.assert(
    fc.asyncProperty(
      caseIndex,
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      async (i, ms) => {
        const c = cases[i] as AlgorithmCase;
        const token = withSignature(c.signingInput, mutate(c.signature, ms));
        const verdicts = await bothVerdicts(token, c.publicJwk);
        const jose6 =
          c.label === 'EdDSA (Ed448)' ? verdicts.jose : await jose6Verdict(token, c.publicJwk);
        expect({ alg: c.label, token, ...verdicts, jose6 }).toEqual({
          alg: c.label,
          token,
          jose: verdicts.jose,
          node: verdicts.jose,
          jose6: verdicts.jose,
        });
      },
    ),
    { numRuns: 2000 },
  );
});

it('random bytes about as long as a signature get the same answer both ways', async () => {
  await fc.assert(
    fc.asyncProperty(
      caseIndex,
      fc.integer({ min: -2, max: 2 }),
      fc.infiniteStream(fc.integer({ min: 0, max: 255 })),
      async (i, delta, stream) => {
        const c = cases[i] as AlgorithmCase;
        const bytes = Buffer.from([...stream.take(Math.max(0, c.signature.length + delta))]);
        const verdicts = await bothVerdicts(withSignature(c.signingInput, bytes), c.publicJwk);
        expect(verdicts.node).toBe(verdicts.jose);
        expect(verdicts.node).toBe('SIGNATURE_INVALID');
      },
    ),
    { numRuns: 500 },
  );
});

it('random text spliced into the signature segment gets the same answer both ways', async () => {
  await fc.assert(
    fc.asyncProperty(
      caseIndex,
      fc.nat(),
      fc.string({ unit: 'binary-ascii', maxLength: 6 }).filter((s) => !s.includes('.')),
      async (i, at, text) => {
        const c = cases[i] as AlgorithmCase;
        const segment = c.token.slice(c.token.lastIndexOf('.') + 1);
        const cut = at % (segment.length + 1);
        const token = `${c.signingInput}.${segment.slice(0, cut)}${text}${segment.slice(cut)}`;
        const verdicts = await bothVerdicts(token, c.publicJwk);
        expect({ token, ...verdicts }).toEqual({ token, jose: verdicts.jose, node: verdicts.jose });
      },
    ),
    { numRuns: 1000 },
  );
});
