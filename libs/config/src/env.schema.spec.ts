import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { buildConfig, envOverlaySchema } from '.';
import { configFailure as failure } from './testing/config-failure';

const build = (raw: unknown, env: Record<string, string> = {}) =>
  buildConfig(raw, env, { source: 'resolver.yaml', baseDir: '/' });
const external = { DATABASE_URL: 'postgres://u:p@db/resolver' };

describe('environment overlay', () => {
  it('lets each variable win over its YAML field', () => {
    const config = build(
      {
        server: { httpPort: 1, grpcPort: 2, bindAddress: '10.0.0.9' },
        database: { migrationsRun: true },
        embedded: { dataDir: '/from/file', port: 3 },
        logging: { level: 'warn' },
      },
      {
        HTTP_PORT: '8081',
        GRPC_PORT: '50052',
        BIND_ADDRESS: '10.0.0.1',
        MIGRATIONS_RUN: 'no',
        DATA_DIR: 'rel/data',
        EMBEDDED_PG_PORT: '5433',
        LOG_LEVEL: 'Trace',
      },
    );
    expect(config.http).toMatchObject({ port: 8081, bindAddress: '10.0.0.1' });
    expect(config.grpc).toEqual({ port: 50052, bindAddress: '10.0.0.1' });
    expect(config.database.migrationsRun).toBe(false);
    expect(config.embedded).toEqual({ dataDir: resolve('rel/data'), port: 5433 });
    expect(config.logging.level).toBe('trace');
  });

  it('treats a variable set but empty as unset, except DATABASE_URL', () => {
    const config = build(
      { server: { httpPort: 7000 } },
      { HTTP_PORT: '', LOG_LEVEL: '', MIGRATIONS_RUN: '', WORKERS: '', RESOLVER_URL: '' },
    );
    expect(config.http.port).toBe(7000);
    expect(config.logging.level).toBe('info');
    expect(config.database.migrationsRun).toBe(true);
    expect(config.workers).toBe(1);
    expect(config.adminUrl).toBe('http://127.0.0.1:7000');
    expect(failure(() => build({}, { DATABASE_URL: '' }))).toBe(
      'DATABASE_URL: is set but empty; unset it for embedded mode, or give a postgres:// URL',
    );
  });

  it.each(['0', '80', '65535'])('accepts port %s', (value) => {
    expect(build({}, { HTTP_PORT: value }).http.port).toBe(Number(value));
  });

  it.each(['65536', ' 80', '1e3', '0x50', '-1', 'eighty'])(
    'refuses port %j, quoting it',
    (value) => {
      expect(failure(() => build({}, { GRPC_PORT: value }))).toBe(
        `GRPC_PORT: must be a port number (0-65535), got ${JSON.stringify(value)}`,
      );
    },
  );

  it('reads booleans as 1/true/yes and 0/false/no in any case, nothing else', () => {
    for (const value of ['1', 'TRUE', 'Yes']) {
      expect(
        build({ database: { migrationsRun: false } }, { MIGRATIONS_RUN: value }).database,
      ).toMatchObject({ migrationsRun: true });
    }
    for (const value of ['0', 'False', 'NO']) {
      expect(build({}, { MIGRATIONS_RUN: value }).database.migrationsRun).toBe(false);
    }
    expect(failure(() => build({}, { MIGRATIONS_RUN: 'on' }))).toBe(
      'MIGRATIONS_RUN: must be true or false, got "on"',
    );
  });

  it('counts WORKERS: a number, or 0 / auto for one per core; several only with a database', () => {
    expect(build({}, { ...external, WORKERS: '4' }).workers).toBe(4);
    expect(build({}, { ...external, WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(build({ server: { workers: 3 } }, external).workers).toBe(3);
    for (const value of ['257', '1.5', 'x', '-1']) {
      expect(failure(() => build({}, { ...external, WORKERS: value }))).toBe(
        `WORKERS: must be a whole number 0..256 or "auto", got ${JSON.stringify(value)}`,
      );
    }
    expect(failure(() => build({}, { WORKERS: '2' }))).toBe(
      'WORKERS: more than one worker needs DATABASE_URL (embedded mode is single-process)',
    );
    expect(failure(() => build({ server: { workers: 2 } }))).toContain('WORKERS: more than one');
  });

  it('derives the admin URL from the HTTP address unless RESOLVER_URL is set', () => {
    expect(build({}, external).adminUrl).toBe('http://127.0.0.1:8080');
    expect(build({}, { BIND_ADDRESS: '::1', HTTP_PORT: '9000' }).adminUrl).toBe(
      'http://[::1]:9000',
    );
    expect(build({}, { RESOLVER_URL: 'https://resolver.internal:8443//' }).adminUrl).toBe(
      'https://resolver.internal:8443',
    );
  });

  it('never quotes a value that can hold a credential', () => {
    const message = failure(() => build({}, { RESOLVER_URL: 'ftp://user:s3cret@host' }));
    expect(message).toBe('RESOLVER_URL: must be an http(s) URL');
    for (const url of ['mysql://u:s3cret@db/x', 'postgres://u:s3cret@[bad/db']) {
      expect(failure(() => build({}, { DATABASE_URL: url }))).not.toContain('s3cret');
    }
  });

  it('reports bad fields and bad variables in one message', () => {
    const message = failure(() =>
      build({ server: { httpPort: 'x' }, limits: { maxTokenBytes: 1 } }, { LOG_LEVEL: 'loud' }),
    );
    expect(message).toMatch(/^resolver\.yaml: server\.httpPort: .*; limits\.maxTokenBytes: /);
    expect(message).toContain('; LOG_LEVEL: must be one of fatal, error, warn');
  });

  it('ignores variables it does not know', () => {
    expect(envOverlaySchema.parse({ PATH: '/bin', HTTP_PORT: '1' })).toEqual({ HTTP_PORT: 1 });
  });
});
