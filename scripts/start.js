#!/usr/bin/env node
// `npm start`: install, build and run the resolver, skipping the install and the build when
// nothing they depend on changed since the last time they succeeded. Each step leaves a stamp
// (a SHA-256 of its inputs) next to its output: node_modules/ for the install (package.json and
// package-lock.json), dist/ for the build (every source the compiler and the copied protos
// read). A fresh clone has no stamps, so it installs and builds; a second start with nothing
// changed goes straight to the service. Plain CommonJS on purpose: it runs before anything is
// installed or built.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');
const { prodNodeFlags } = require('./node-flags');

const ROOT = process.cwd();
const INSTALL_INPUTS = ['package.json', 'package-lock.json'];
const BUILD_INPUTS = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'apps',
  'libs',
  'bench',
  'proto',
];
const INSTALL_STAMP = join('node_modules', '.subject-resolver-install.sha256');
const BUILD_STAMP = join('dist', '.subject-resolver-build.sha256');
const MAIN = join('dist', 'apps', 'resolver', 'src', 'main.js');

/** Every file under `paths` (relative to ROOT), sorted: the same tree always hashes the same. */
function files(paths) {
  const out = [];
  const walk = (path) => {
    const full = join(ROOT, path);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) walk(join(path, name));
    } else out.push(path);
  };
  for (const path of paths) walk(path);
  return out.sort();
}

/** SHA-256 over each file's path and content. */
function digest(paths) {
  const hash = createHash('sha256');
  for (const file of files(paths)) {
    hash.update(`${relative(ROOT, join(ROOT, file))}\0`);
    hash.update(readFileSync(join(ROOT, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}

const stampOf = (path) => {
  try {
    return readFileSync(join(ROOT, path), 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** `npm …` with the npm that runs this script when there is one (npm start), else PATH's. */
function npm(args) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] =
    execPath && /\.(c?js)$/.test(execPath) ? [process.execPath, [execPath]] : ['npm', []];
  const result = spawnSync(command, [...prefix, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`npm start: npm ${args.join(' ')} failed (exit ${result.status})\n`);
    process.exit(result.status ?? 1);
  }
}

const say = (line) => process.stderr.write(`npm start: ${line}\n`);

function main() {
  if (stampOf(INSTALL_STAMP) === digest(INSTALL_INPUTS) && existsSync(join(ROOT, 'node_modules'))) {
    say(
      'dependencies unchanged since the last install (package.json, package-lock.json): skipping npm install',
    );
  } else {
    npm(['install', '--no-audit', '--no-fund']);
    // npm install may rewrite the lock file: stamp what it left.
    writeFileSync(join(ROOT, INSTALL_STAMP), `${digest(INSTALL_INPUTS)}\n`);
  }
  const sources = digest(BUILD_INPUTS);
  if (stampOf(BUILD_STAMP) === sources && existsSync(join(ROOT, MAIN))) {
    say('sources unchanged since the last build: skipping npm run build');
  } else {
    npm(['run', 'build']);
    writeFileSync(join(ROOT, BUILD_STAMP), `${sources}\n`);
  }
  // With start:prod's node flags (--disable-proto=delete among them): the dev start runs the
  // service as production does.
  const child = spawn(process.execPath, [...prodNodeFlags(ROOT), join(ROOT, MAIN)], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  // Ctrl-C reaches the whole process group; a signal sent to npm alone is passed on. The
  // resolver's own handler shuts down gracefully and ignores a repeat.
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main();
