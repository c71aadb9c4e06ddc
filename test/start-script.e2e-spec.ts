import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const START = join(__dirname, '..', 'scripts', 'start.js');

/**
 * `npm start` (scripts/start.js) in a scratch project whose `npm` only records what it was asked
 * to do: a fresh clone installs and builds, a second start with nothing changed does neither,
 * and a changed source or lock file redoes exactly what depends on it.
 */
describe('npm start skips the install and the build when nothing changed', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  const log = () => join(root, 'npm.log');
  const calls = async () =>
    (await readFile(log(), 'utf8').catch(() => '')).split('\n').filter(Boolean);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'start-script-'));
    await mkdir(join(root, 'bin'));
    await mkdir(join(root, 'apps/resolver/src'), { recursive: true });
    await mkdir(join(root, 'proto'));
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({
        name: 'scratch',
        scripts: { 'start:prod': 'node --disable-proto=delete dist/apps/resolver/src/main.js' },
      }),
    );
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3}\n');
    await writeFile(join(root, 'tsconfig.json'), '{}\n');
    await writeFile(join(root, 'apps/resolver/src/main.ts'), 'export {};\n');
    await writeFile(join(root, 'proto/a.proto'), 'syntax = "proto3";\n');
    // The fake npm: `install` makes node_modules, `run build` makes a dist whose main prints.
    await writeFile(
      join(root, 'bin/npm'),
      `#!/bin/sh
echo "$*" >> "${join(root, 'npm.log')}"
case "$1" in
  install) mkdir -p node_modules ;;
  run) rm -rf dist && mkdir -p dist/apps/resolver/src &&
       echo 'console.log("resolver started"); require("fs").writeFileSync("flags", process.execArgv.join(" "))' > dist/apps/resolver/src/main.js ;;
esac
`,
    );
    await chmod(join(root, 'bin/npm'), 0o755);
    // Not the npm running this suite: the script must find ours on PATH.
    env = { PATH: `${join(root, 'bin')}:${process.env.PATH}` };
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  const start = () => run(process.execPath, [START], { cwd: root, env });

  it('a fresh clone installs, builds and starts', async () => {
    const { stdout } = await start();
    expect(stdout).toBe('resolver started\n');
    expect(await calls()).toEqual(['install --no-audit --no-fund', 'run build']);
    // The service runs with start:prod's node flags, as production starts it.
    expect(await readFile(join(root, 'flags'), 'utf8')).toBe('--disable-proto=delete');
  });

  it('a second start with nothing changed goes straight to the service', async () => {
    const { stdout, stderr } = await start();
    expect(stdout).toBe('resolver started\n');
    expect(await calls()).toHaveLength(2);
    expect(stderr).toContain('skipping npm install');
    expect(stderr).toContain('skipping npm run build');
  });

  it('a changed source rebuilds without reinstalling', async () => {
    await appendFile(join(root, 'apps/resolver/src/main.ts'), '// edited\n');
    await start();
    expect((await calls()).slice(2)).toEqual(['run build']);
    await writeFile(join(root, 'proto/b.proto'), 'syntax = "proto3";\n');
    await start();
    expect((await calls()).slice(3)).toEqual(['run build']);
  });

  it('a changed lock file reinstalls and rebuilds; a missing dist rebuilds', async () => {
    await writeFile(join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    await start();
    expect((await calls()).slice(4)).toEqual(['install --no-audit --no-fund', 'run build']);
    await rm(join(root, 'dist'), { recursive: true });
    await start();
    expect((await calls()).slice(6)).toEqual(['run build']);
    await start();
    expect(await calls()).toHaveLength(7);
  });
});
