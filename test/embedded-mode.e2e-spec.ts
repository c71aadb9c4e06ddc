import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@resolver/config';
import { mintDevToken, readDevIssuer } from '@resolver/tokens';
import { type RunningResolver, startResolver } from '../apps/resolver/src/resolver-app';
import { freePort } from './support/ports';

/**
 * The quickstart path: no config file and no DATABASE_URL starts embedded Postgres and the dev
 * issuer; a dev token resolves (JIT); data and the dev key survive a restart.
 */
describe('embedded mode', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let resolver: RunningResolver | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'resolver-embedded-'));
    env = {
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      HTTP_PORT: String(await freePort()),
      GRPC_PORT: String(await freePort()),
    };
  });

  afterAll(async () => {
    await resolver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const resolve = (token: string) =>
    fetch(`${resolver?.httpUrl}/v1/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  it('starts with embedded Postgres and a dev issuer whose tokens resolve, across restarts', async () => {
    const config = loadConfig(env);
    expect(config.mode).toBe('embedded');
    expect(config.http.bindAddress).toBe('127.0.0.1');
    resolver = await startResolver(config, { logger: false });
    expect(resolver.devIssuer?.issuer).toBe(`http://127.0.0.1:${env.HTTP_PORT}/dev`);

    const dev = await readDevIssuer(dataDir);
    const token = await mintDevToken(
      dev,
      { sub: 'alice', email: 'alice@example.com', name: 'Alice' },
      600,
    );
    const first = await resolve(token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      source: 'PROVISIONED',
      principal: { email: 'alice@example.com', displayName: 'Alice', roles: ['user'] },
    });

    const jwks = (await (await fetch(`${resolver.httpUrl}/dev/jwks.json`)).json()) as {
      keys: { kid: string; d?: string }[];
    };
    expect(jwks.keys.map((k) => k.kid)).toEqual([dev.kid]);
    expect(jwks.keys[0]?.d).toBeUndefined();

    await resolver.close();
    resolver = await startResolver(loadConfig(env), { logger: false });
    const again = await resolve(token);
    expect(again.status).toBe(200);
    expect(again.body.source).toBe('STORE');
    expect(again.body.principal.id).toBe(first.body.principal.id);
  });
});
