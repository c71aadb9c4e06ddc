// The node flags the resolver runs with, read from package.json's `start:prod` (what
// `node … dist/…/main.js` is given there), so that `npm start`, the e2e suites' processes and the
// bench start the service exactly as production does. Plain CommonJS: `npm start` runs it before
// anything is built.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

/** The flags between `node` and the script in `start:prod`, as argv entries. */
function prodNodeFlags(root = join(__dirname, '..')) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const m = /^node\s+(.*?)\s*dist\//.exec(pkg.scripts?.['start:prod'] ?? '');
  return m && m[1] ? m[1].split(/\s+/) : [];
}

module.exports = { prodNodeFlags };
