import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prodNodeFlags } from '../../scripts/node-flags';

/**
 * `--disable-proto=delete` (docs/security-model.md): every way the resolver starts runs without
 * the `Object.prototype.__proto__` accessor, so `x["__proto__"] = value` on an object built from
 * untrusted JSON creates an own property and never swaps a prototype. start:prod, `npm start`
 * and the image pass the flag; main.js's first import removes the accessor for any other start.
 */

const ROOT = join(__dirname, '..', '..');
const HARDENING = join(ROOT, 'dist', 'apps', 'resolver', 'src', 'process-hardening.js');
const MAIN = join(ROOT, 'dist', 'apps', 'resolver', 'src', 'main.js');

/** What a node process reports about the accessor, and whether a copy of `__proto__` JSON leaks. */
const PROBE = `
  const parsed = JSON.parse('{"__proto__": {"polluted": true}}');
  const copy = Object.assign({}, parsed);
  process.stdout.write(JSON.stringify({
    accessor: Object.hasOwn(Object.prototype, '__proto__'),
    ownCopy: Object.hasOwn(copy, '__proto__'),
    inherited: copy.polluted === true,
  }));`;

function probe(flags: string[], preload?: string): Record<string, boolean> {
  const code = preload ? `require(${JSON.stringify(preload)});${PROBE}` : PROBE;
  return JSON.parse(
    execFileSync(process.execPath, [...flags, '-e', code], { encoding: 'utf8' }),
  ) as Record<string, boolean>;
}

describe('process hardening: no Object.prototype.__proto__ accessor', () => {
  it('a plain node process has it (the probe can tell)', () => {
    expect(probe([])).toEqual({ accessor: true, ownCopy: false, inherited: true });
  });

  it("start:prod's node flags remove it", () => {
    expect(prodNodeFlags()).toContain('--disable-proto=delete');
    expect(probe(prodNodeFlags())).toEqual({ accessor: false, ownCopy: true, inherited: false });
  });

  it("main.js's first import removes it for any other way of starting the service", () => {
    expect(probe([], HARDENING)).toEqual({ accessor: false, ownCopy: true, inherited: false });
    const main = readFileSync(MAIN, 'utf8');
    const firstRequire = /require\("([^"]+)"\)/.exec(main)?.[1];
    expect(firstRequire).toBe('./process-hardening');
  });

  it('the dev start and the image pass the same flags', () => {
    expect(readFileSync(join(ROOT, 'scripts', 'start.js'), 'utf8')).toMatch(
      /spawn\(process\.execPath, \[\.\.\.prodNodeFlags\(ROOT\), join\(ROOT, MAIN\)\]/,
    );
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/NODE_OPTIONS="[^"]*--disable-proto=delete[^"]*"/);
  });
});
