import { buildConfig, ConfigError } from '.';

const build = (raw: unknown, env: Record<string, string> = {}) =>
  buildConfig(raw, env, { source: 'resolver.yaml', baseDir: '/' });
const external = { DATABASE_URL: 'postgres://u:p@db/resolver' };

describe('logging and lifecycle config', () => {
  it('defaults: info level, hashed subjects, pretty only in embedded mode, 5 s drain only in external mode', () => {
    const embedded = build({});
    expect(embedded.logging).toEqual({ level: 'info', logSubjects: false, pretty: true });
    expect(embedded.lifecycle).toEqual({
      requestTimeoutMs: 3000,
      shutdownDrainMs: 0,
      shutdownGraceMs: 25000,
    });
    const ext = build({}, external);
    expect(ext.logging.pretty).toBe(false);
    expect(ext.lifecycle.shutdownDrainMs).toBe(5000);
  });

  it('reads the file and lets LOG_LEVEL override the level', () => {
    const config = build(
      {
        logging: { level: 'warn', logSubjects: true, pretty: false },
        server: { requestTimeoutMs: 800, shutdownDrainMs: 100, shutdownGraceMs: 2000 },
      },
      { LOG_LEVEL: 'DEBUG' },
    );
    expect(config.logging).toEqual({ level: 'debug', logSubjects: true, pretty: false });
    expect(config.lifecycle).toEqual({
      requestTimeoutMs: 800,
      shutdownDrainMs: 100,
      shutdownGraceMs: 2000,
    });
  });

  it('refuses unknown fields, bad levels and bad durations, naming the field', () => {
    const message = (raw: unknown, env: Record<string, string> = {}) => {
      try {
        build(raw, env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(message({ logging: { levl: 'info' } })).toContain('logging.levl: unknown field');
    expect(message({ logging: { level: 'loud' } })).toContain('logging.level');
    expect(message({}, { LOG_LEVEL: 'loud' })).toContain('LOG_LEVEL');
    expect(message({ server: { requestTimeoutMs: 0 } })).toContain('server.requestTimeoutMs');
  });
});
