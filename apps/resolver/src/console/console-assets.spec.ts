import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleAssets } from './console-assets';

describe('ConsoleAssets: what /console serves', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the index and the built js/css by name, nothing else', () => {
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'assets', 'console-ABCD1234.js'), 'export {}');
    writeFileSync(join(dir, 'assets', 'console-ABCD1234.css'), 'body{}');
    writeFileSync(join(dir, 'assets', 'console-ABCD1234.js.map'), '{}');
    const assets = new ConsoleAssets(dir);
    expect(assets.index?.toString()).toBe('<!doctype html>');
    expect(assets.asset('console-ABCD1234.js')?.contentType).toBe('text/javascript; charset=utf-8');
    expect(assets.asset('console-ABCD1234.css')?.body.toString()).toBe('body{}');
    expect(assets.asset('console-ABCD1234.js.map')).toBeUndefined();
    expect(assets.asset('../index.html')).toBeUndefined();
  });

  it('an unbuilt console has no index (the page answers 503, the admin API still works)', () => {
    expect(new ConsoleAssets(undefined).index).toBeUndefined();
    expect(new ConsoleAssets(dir).index).toBeUndefined();
  });
});
