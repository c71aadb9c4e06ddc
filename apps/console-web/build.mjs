// Bundles the operator console (Preact + TSX) into dist/console: content-hashed assets that the
// resolver serves with year-long cache headers, and an index page naming them. No CDN, no
// remote font: everything the page loads comes from this build.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outdir = join(root, 'dist', 'console');

const result = await build({
  absWorkingDir: root,
  entryPoints: { console: 'apps/console-web/src/main.tsx' },
  outdir: join(outdir, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => relative(root, join(root, p)));
const named = (ext) => {
  const found = outputs.filter((p) => p.endsWith(ext));
  if (found.length !== 1)
    throw new Error(`console build: expected one ${ext} output, got ${found}`);
  return `/console/assets/${basename(found[0])}`;
};

// The icon is declared inline (img-src allows data:), so the browser never asks for
// /favicon.ico: that request would be a 404 and an error in the console on every load.
const icon = `data:image/svg+xml;base64,${(
  await readFile(join(root, 'apps', 'console-web', 'src', 'icon.svg'))
).toString('base64')}`;

// No inline script or style anywhere: the page's CSP (script-src 'self') would refuse them.
const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta name="referrer" content="no-referrer" />
    <title>Subject resolver console</title>
    <link rel="icon" type="image/svg+xml" href="${icon}" />
    <link rel="stylesheet" href="${named('.css')}" />
    <script type="module" src="${named('.js')}"></script>
  </head>
  <body>
    <div id="app"><noscript>The console needs JavaScript.</noscript></div>
  </body>
</html>
`;
await mkdir(outdir, { recursive: true });
await writeFile(join(outdir, 'index.html'), html);
