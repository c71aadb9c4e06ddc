import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EMBEDDED_SERVER_FILE,
  type EmbeddedServerRecord,
  loadConfig,
  recordEmbeddedServer,
} from '@resolver/config';
import { discoverServer } from './server-discovery';

describe('discoverServer: where every CLI verb finds the resolver', () => {
  let dir: string;
  const record = (extra: Partial<EmbeddedServerRecord> = {}): EmbeddedServerRecord => ({
    pid: process.pid,
    host: '127.0.0.1',
    httpPort: 20000,
    grpcPort: 20001,
    admin: 'generated',
    ...extra,
  });
  const discover = (env: Record<string, string> = {}) => {
    return discoverServer(loadConfig({ DATA_DIR: dir, ...env }));
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'discovery-'));
    await writeFile(join(dir, 'admin-token'), `${'g'.repeat(43)}\n`, { mode: 0o600 });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('with nothing running, the configuration and the generated credential', async () => {
    const config = await discover();
    expect(config.adminUrl).toBe('http://127.0.0.1:8080');
    expect(config.grpc).toEqual({ bindAddress: '127.0.0.1', port: 50051 });
    expect(config.admin?.from).toEqual({ file: join(dir, 'admin-token'), named: 'generated' });
  });

  it('finds the running embedded server on its own ports', async () => {
    const remove = await recordEmbeddedServer(dir, record());
    const config = await discover();
    expect(config.adminUrl).toBe('http://127.0.0.1:20000');
    expect(config.grpc).toEqual({ bindAddress: '127.0.0.1', port: 20001 });
    expect(Buffer.from(config.admin!.token).toString()).toBe('g'.repeat(43));
    await remove();
    expect((await discover()).adminUrl).toBe('http://127.0.0.1:8080');
  });

  it('brackets an IPv6 host in the URL', async () => {
    await recordEmbeddedServer(dir, record({ host: '::1' }));
    expect((await discover()).adminUrl).toBe('http://[::1]:20000');
    expect((await discover()).grpc.bindAddress).toBe('::1');
  });

  it('explicit settings win, each for its own transport', async () => {
    await recordEmbeddedServer(dir, record());
    const url = await discover({ RESOLVER_URL: 'http://elsewhere:9000' });
    expect(url.adminUrl).toBe('http://elsewhere:9000');
    expect(url.grpc.port).toBe(20001);
    const http = await discover({ HTTP_PORT: '9001' });
    expect(http.adminUrl).toBe('http://127.0.0.1:9001');
    expect(http.grpc.port).toBe(20001);
    const grpc = await discover({ GRPC_PORT: '9002' });
    expect(grpc.grpc.port).toBe(9002);
    expect(grpc.adminUrl).toBe('http://127.0.0.1:20000');
    // Set but empty is unset, as the config loader reads it.
    expect((await discover({ GRPC_PORT: '' })).grpc.port).toBe(20001);
    const token = await discover({ ADMIN_TOKEN: 'e'.repeat(30) });
    expect(Buffer.from(token.admin!.token).toString()).toBe('e'.repeat(30));
  });

  it('does not send the generated credential to a server started with another one', async () => {
    await recordEmbeddedServer(dir, record({ admin: 'configured' }));
    expect((await discover()).admin).toBeUndefined();
    await recordEmbeddedServer(dir, record({ admin: 'off' }));
    expect((await discover()).admin).toBeUndefined();
  });

  it('ignores a record whose process is gone (a crashed server)', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await recordEmbeddedServer(dir, record({ pid: gone }));
    expect((await discover()).adminUrl).toBe('http://127.0.0.1:8080');
  });

  it('ignores a gRPC port it cannot know (the server took any free port)', async () => {
    await recordEmbeddedServer(dir, record({ grpcPort: 0 }));
    expect((await discover()).grpc.port).toBe(50051);
  });

  // The file is read, never trusted: anything but a whole record is no record.
  it.each([
    'not json',
    'null',
    '[]',
    `{"pid":${process.pid},"host":"127.0.0.1","httpPort":"20000","grpcPort":20001,"admin":"generated"}`,
    `{"pid":${process.pid},"host":"","httpPort":20000,"grpcPort":20001,"admin":"generated"}`,
    `{"pid":${process.pid},"host":"127.0.0.1","httpPort":70000,"grpcPort":20001,"admin":"generated"}`,
    `{"pid":${process.pid},"host":"127.0.0.1","httpPort":20000,"grpcPort":20001,"admin":"root"}`,
    `{"__proto__":{"httpPort":20000},"pid":${process.pid},"host":"127.0.0.1","grpcPort":20001,"admin":"generated"}`,
    `{"pid":-1,"host":"127.0.0.1","httpPort":20000,"grpcPort":20001,"admin":"generated"}`,
  ])('ignores a malformed record %s', async (text) => {
    await writeFile(join(dir, EMBEDDED_SERVER_FILE), text);
    const config = await discover();
    expect(config.adminUrl).toBe('http://127.0.0.1:8080');
    expect(({} as Record<string, unknown>).httpPort).toBeUndefined();
  });

  it('leaves external mode to its configuration', async () => {
    await recordEmbeddedServer(dir, record());
    const config = await discoverServer(
      loadConfig({ DATA_DIR: dir, DATABASE_URL: 'postgres://u:p@db:5432/r' }),
    );
    expect(config.adminUrl).toBe('http://127.0.0.1:8080');
    expect(config.admin).toBeUndefined();
  });
});
