import { createServer, type Server } from 'node:net';
import { buildConfig } from '@resolver/config';
import { startResolver } from '../apps/resolver/src/resolver-app';
import { createTestDatabase } from './support/database';
import { freePort } from './support/ports';

/** A port already taken is reported by the setting that moves it, not as a bare EADDRINUSE. */
describe('ports in use', () => {
  let databaseUrl: string;
  let squatter: Server;
  let taken: number;

  beforeAll(async () => {
    databaseUrl = await createTestDatabase('ports');
    taken = await freePort();
    squatter = createServer();
    await new Promise<void>((r) => squatter.listen(taken, '127.0.0.1', r));
  });
  afterAll(async () => new Promise((r) => squatter.close(r)));

  const start = async (server: Record<string, unknown>) =>
    startResolver(
      buildConfig(
        {
          server: { bindAddress: '127.0.0.1', ...server },
          database: { url: databaseUrl },
          logging: { level: 'silent' },
        },
        {},
        { source: 'test config', baseDir: process.cwd() },
      ),
      { logger: false },
    );

  it('names HTTP_PORT when the HTTP port is taken', async () => {
    await expect(start({ httpPort: taken, grpcPort: await freePort() })).rejects.toThrow(
      `the HTTP port is in use: 127.0.0.1:${taken} already has a listener (another resolver?); stop it, or choose another port with HTTP_PORT`,
    );
  });

  it('names GRPC_PORT when the gRPC port is taken', async () => {
    await expect(start({ httpPort: await freePort(), grpcPort: taken })).rejects.toThrow(
      `the gRPC port is in use: 127.0.0.1:${taken} already has a listener (another resolver?); stop it, or choose another port with GRPC_PORT`,
    );
  });
});
