import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

/** One built file, read once at boot. */
export interface ConsoleAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where `npm run build` puts the console (apps/console-web/build.mjs): `dist/console`. From the
 * compiled module that is four levels up then `console`; from the TypeScript source (tests run
 * it through ts-jest) four levels up then `dist/console`.
 */
export function builtConsoleDir(): string | undefined {
  const root = resolve(__dirname, '..', '..', '..', '..');
  return [join(root, 'console'), join(root, 'dist', 'console')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  );
}

/**
 * The console's built files, held in memory: the index page and the content-hashed assets it
 * names. Only names found in the build are served, so a request path can never reach the file
 * system. When the console was not built the index says so instead of failing the boot: the
 * admin API works without it.
 */
export class ConsoleAssets {
  readonly index: Buffer | undefined;
  private readonly assets = new Map<string, ConsoleAsset>();

  /** Reads the build in `dir` (`undefined`: not built). */
  constructor(dir: string | undefined) {
    if (!dir) return;
    if (!existsSync(join(dir, 'index.html'))) return;
    this.index = readFileSync(join(dir, 'index.html'));
    const assetDir = join(dir, 'assets');
    for (const name of existsSync(assetDir) ? readdirSync(assetDir) : []) {
      const contentType = CONTENT_TYPES[extname(name)];
      if (contentType) {
        this.assets.set(name, { body: readFileSync(join(assetDir, name)), contentType });
      }
    }
  }

  /** A built asset by its (hashed) file name, or undefined. */
  asset(name: string): ConsoleAsset | undefined {
    return this.assets.get(name);
  }
}
