import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually';
import { perSuite } from '../support/per-suite';
import { ADMIN_TOKEN, SsfPollWorld } from './ssf-poll-world';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');

/** The `ssf` verbs of the operator CLI (built, a separate process) against the admin API. */
describe('CLI ssf verbs', () => {
  const world = perSuite(
    new SsfPollWorld({ intervalSeconds: 30, maxBackoffSeconds: 60 }),
    'ssf_streams_cli',
  );
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const json = (text: string) => JSON.parse(text) as Record<string, any>;

  beforeAll(async () => {
    const app = await world.startResolver();
    env = { PATH: process.env.PATH, ADMIN_TOKEN, RESOLVER_URL: app.url };
  });

  it('creates and reads the stream, lists streams', async () => {
    await eventually('the poller created the stream', async () => world.tx.streams.size === 1);
    const created = await cli('ssf', 'stream', 'tx', '--create');
    expect(created).toMatchObject({ code: 0 });
    expect(json(created.stdout).stream.streamId).toBe(world.tx.stream().stream_id);
    const read = await cli('ssf', 'stream', 'tx');
    expect(json(read.stdout).state.streamStatus).toBe('enabled');
    const list = await cli('ssf', 'streams');
    expect(json(list.stdout).streams).toEqual([expect.objectContaining({ transmitter: 'tx' })]);
  });

  it('pauses and enables the stream at the transmitter', async () => {
    const paused = await cli('ssf', 'status', 'tx', 'pause', '--reason', 'maintenance');
    expect(paused.code).toBe(0);
    expect(world.tx.stream()).toMatchObject({ status: 'paused', reason: 'maintenance' });
    expect(json(paused.stdout).state.streamStatus).toBe('paused');
    expect((await cli('ssf', 'status', 'tx', 'enable')).code).toBe(0);
    expect(world.tx.stream().status).toBe('enabled');
  });

  it('requests verification, and polls now to receive it', async () => {
    const asked = await cli('ssf', 'verify', 'tx', '--state', 'from-cli');
    expect(asked.code).toBe(0);
    expect(json(asked.stdout)).toEqual({ requested: true, state: 'from-cli' });
    const polled = await cli('ssf', 'poll', 'tx');
    expect(polled.code).toBe(0);
    expect(json(polled.stdout).polled).toBe('ok');
    const read = json((await cli('ssf', 'stream', 'tx')).stdout);
    expect(read.state.verificationState).toBe('from-cli');
  });

  it('says what is wrong: a bad verb or status (exit 2), an unknown transmitter (exit 1)', async () => {
    const verb = await cli('ssf', 'frobnicate');
    expect(verb.code).toBe(2);
    expect(verb.stderr).toContain('unknown ssf verb');
    const status = await cli('ssf', 'status', 'tx', 'toString');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('enable, pause or disable');
    const unknown = await cli('ssf', 'stream', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/404 no transmitter named "nope"/);
  });
});
