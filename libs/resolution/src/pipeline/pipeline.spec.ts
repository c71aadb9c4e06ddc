import { PIPELINE, WARM_CHECKS } from './pipeline';
import { checkKind, checkSignedOut } from './user-steps';

/** The declaration itself: what both runners rely on without checking it each time. */
describe('the pipeline, declared once', () => {
  it('names every step once, token steps, then request steps (binding), then user steps', () => {
    const names = PIPELINE.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const stages = PIPELINE.map((s) => s.stage).join(' ');
    expect(stages).toMatch(/^(token )+(request )+(user )*user$/);
    expect(PIPELINE.filter((s) => s.stage === 'request').map((s) => s.name)).toEqual(['binding']);
  });

  it('depends only on earlier steps, and verification is one run of steps, signature first', () => {
    PIPELINE.forEach((step, i) => {
      const earlier = PIPELINE.slice(0, i).map((s) => s.name);
      for (const name of step.after ?? []) expect(earlier).toContain(name);
    });
    const verifies = PIPELINE.map((s) => s.verifies ?? '-').join(' ');
    expect(verifies).toMatch(/^(- )*(signature )+(claims )+(- )*-$/);
    // Nothing is stopped at after a step that reads a store: only the shape and issuer stop it.
    expect(PIPELINE.filter((s) => s.stopsDiagnosis).map((s) => s.name)).toEqual([
      'format',
      'opaque',
      'decrypt',
      'decode',
      'pasetoDecode',
      'issuer',
    ]);
    expect(PIPELINE.filter((s) => s.store).map((s) => s.name)).toEqual([
      'binding',
      'revocation',
      'lookup',
      'jit',
    ]);
  });

  it('classifies the format first, and runs the JWS steps only for a JWS', () => {
    expect(PIPELINE[0]?.name).toBe('format');
    const jwsOnly = ['algorithm', 'signaturePresent', 'keys', 'signature'];
    for (const name of jwsOnly) {
      const step = PIPELINE.find((s) => s.name === name);
      for (const format of ['jwe', 'paseto', 'opaque'] as const)
        expect({ name, format, runs: step?.when?.({ format } as never) }).toEqual({
          name,
          format,
          runs: false,
        });
      expect(step?.when?.({ format: 'jws' } as never)).toBe(true);
    }
  });

  it('the warm path asks the user steps’ own checks, in the pipeline’s order', () => {
    expect(WARM_CHECKS).toHaveLength(3);
    expect(WARM_CHECKS[0]).toBe(checkKind);
    expect(WARM_CHECKS[1]).toBe(checkSignedOut);
    expect(PIPELINE.filter((s) => s.check).map((s) => s.name)).toEqual([
      'kind',
      'signedOut',
      'status',
    ]);
  });
});
