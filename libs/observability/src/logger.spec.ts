import { createLogger, hashSubject, NestPinoLogger, ResolverLogger } from './logger';
import { requestIdFrom } from './request-id';

const capture = () => {
  const chunks: string[] = [];
  return {
    stream: { write: (s: string) => void chunks.push(s) },
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
};
const config = { level: 'debug' as const, logSubjects: false, pretty: false };

describe('logger', () => {
  it('censors credential fields even if a caller passes them', () => {
    const out = capture();
    const log = createLogger(config, out.stream);
    log.info({ token: 'eyJ.secret.sig', headers: { authorization: 'Bearer x' } }, 'oops');
    const [line] = out.lines();
    expect(line).toMatchObject({ token: '[redacted]', headers: { authorization: '[redacted]' } });
    expect(JSON.stringify(line)).not.toContain('eyJ.secret.sig');
  });

  it('hashes subjects to a short sha256 unless logSubjects is on', () => {
    expect(hashSubject('alice')).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(hashSubject('alice')).not.toBe(hashSubject('bob'));
    const out = capture();
    const pino = createLogger(config, out.stream);
    expect(new ResolverLogger(pino, { logSubjects: false }).subject('alice')).toBe(
      hashSubject('alice'),
    );
    expect(new ResolverLogger(pino, { logSubjects: true }).subject('alice')).toBe('alice');
  });

  it('adapts Nest log calls, context and stack included, and honours the level', () => {
    const out = capture();
    const nest = new NestPinoLogger(createLogger({ ...config, level: 'info' }, out.stream));
    nest.log('listening', 'Main');
    nest.error('failed', 'Error: x\n    at y', 'HTTP');
    nest.error('plain', 'gRPC');
    nest.debug('hidden', 'Main');
    expect(out.lines().map((l) => [l.level, l.msg, l.context, l.stack])).toEqual([
      ['info', 'listening', 'Main', undefined],
      ['error', 'failed', 'HTTP', 'Error: x\n    at y'],
      ['error', 'plain', 'gRPC', undefined],
    ]);
  });
});

describe('requestIdFrom', () => {
  it('keeps a sane caller id and replaces anything else with a UUID', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(requestIdFrom('req-123')).toBe('req-123');
    expect(requestIdFrom(['abc', 'def'])).toBe('abc');
    for (const bad of [undefined, '', 'a b', 'x\ny', 'é', 'a'.repeat(129), 'eyJh.eyJz.c2ln', 42])
      expect(requestIdFrom(bad)).toMatch(uuid);
  });
});
