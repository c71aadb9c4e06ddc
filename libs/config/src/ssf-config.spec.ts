import { createHash } from 'node:crypto';
import { buildConfig, SSF_DEFAULT_ACTIONS } from '.';
import { configFailure as failure } from './testing/config-failure';

const issuer = {
  issuer: 'https://idp.example/',
  jwksUri: 'https://idp.example/jwks',
  audiences: ['api'],
  algorithms: ['RS256'],
};
const transmitter = (extra: Record<string, unknown> = {}) => ({
  name: 'okta',
  issuer: 'https://tx.example/',
  jwksUri: 'https://tx.example/jwks',
  algorithms: ['RS256'],
  audience: 'https://resolver.example/ssf',
  resolver: { issuer: 'https://idp.example/' },
  delivery: { push: { tokenSha256: 'ab'.repeat(32) } },
  ...extra,
});
const build = (ssf: unknown, env: Record<string, string> = {}) =>
  buildConfig({ issuers: [issuer], ssf }, env, { source: 'resolver.yaml', baseDir: '/' });

describe('ssf config', () => {
  it('is off by default and applies the defaults of a transmitter', () => {
    expect(build(undefined).ssf.transmitters).toEqual([]);
    const config = build({ transmitters: [transmitter()] });
    expect(config.ssf).toMatchObject({
      maxSetBytes: 16_384,
      clockToleranceSeconds: 60,
      maxEventAgeSeconds: 604_800,
      jtiRetentionSeconds: 1_209_600,
    });
    const [t] = config.ssf.transmitters;
    expect(t?.actions).toEqual(SSF_DEFAULT_ACTIONS);
    expect(t?.delivery.push?.tokenSha256).toEqual(
      new Uint8Array(Buffer.from('ab'.repeat(32), 'hex')),
    );
    expect(t?.jwks.cooldownMs).toBe(30_000);
  });

  it('hashes a push credential read from the environment, and reads poll and stream secrets', () => {
    const [t] = build(
      {
        transmitters: [
          transmitter({
            delivery: {
              push: { tokenEnv: 'SSF_PUSH' },
              poll: { endpoint: 'https://tx.example/poll', authorization: { env: 'SSF_POLL' } },
            },
            stream: { authorization: { env: 'SSF_POLL' } },
          }),
        ],
      },
      { SSF_PUSH: 'a-long-enough-push-credential', SSF_POLL: 'Bearer poll-secret' },
    ).ssf.transmitters;
    expect(Buffer.from(t?.delivery.push?.tokenSha256 ?? [])).toEqual(
      createHash('sha256').update('a-long-enough-push-credential').digest(),
    );
    expect(t?.delivery.poll).toMatchObject({
      intervalSeconds: 30,
      maxEvents: 100,
      authorization: 'Bearer poll-secret',
    });
    expect(t?.stream.authorization).toBe('Bearer poll-secret');
  });

  it('applies per-event overrides over the defaults', () => {
    const [t] = build({
      transmitters: [
        transmitter({ events: { 'risk-level-change': 'sign-out', 'account-purged': 'none' } }),
      ],
    }).ssf.transmitters;
    expect(t?.actions['risk-level-change']).toBe('sign-out');
    expect(t?.actions['account-purged']).toBe('none');
    expect(t?.actions['session-revoked']).toBe('revoke-session');
  });

  it.each([
    [{ algorithms: ['none'] }, 'ssf.transmitters[0].algorithms[0]: "none" is never allowed'],
    [{ algorithms: ['HS256'] }, 'ssf.transmitters[0].algorithms[0]: unsupported algorithm'],
    [{ jwksUri: undefined }, 'ssf.transmitters[0].jwksUri: set jwksUri, or discovery: true'],
    [{ discovery: true }, 'ssf.transmitters[0].jwksUri: set either discovery'],
    [{ name: 'a b' }, 'ssf.transmitters[0].name: must be a short name'],
    [{ audience: '' }, 'ssf.transmitters[0].audience'],
    [{ delivery: {} }, 'ssf.transmitters[0].delivery: set push, poll, or both'],
    [
      { delivery: { push: { tokenSha256: 'ab'.repeat(32), tokenEnv: 'X' } } },
      'ssf.transmitters[0].delivery.push: set exactly one of tokenSha256 or tokenEnv',
    ],
    [
      { delivery: { poll: { intervalSeconds: 600, maxBackoffSeconds: 60 } } },
      'ssf.transmitters[0].delivery.poll.maxBackoffSeconds: must be at least intervalSeconds',
    ],
    [{ events: { 'session-killed': 'none' } }, 'ssf.transmitters[0].events.session-killed'],
    [{ events: { 'account-disabled': 'explode' } }, 'unknown action "explode"'],
    [{ events: { 'account-disabled': 'repoint' } }, 'repoint applies only to identifier-changed'],
    [{ events: { verification: 'disable' } }, 'its action can only be record or none'],
    [{ resolver: { issuer: 'https://other/' } }, 'ssf.transmitters[0].resolver.issuer: no issuer'],
    [{ surprise: true }, 'ssf.transmitters[0]'],
  ])('names the field of a bad transmitter %j', (extra, message) => {
    expect(failure(() => build({ transmitters: [transmitter(extra)] }))).toContain(message);
  });

  it('refuses duplicates, a retention shorter than the event age and a missing credential', () => {
    expect(failure(() => build({ transmitters: [transmitter(), transmitter()] }))).toContain(
      'ssf.transmitters[1].name: duplicate name',
    );
    expect(failure(() => build({ maxEventAgeSeconds: 7200, jtiRetentionSeconds: 3600 }))).toContain(
      'ssf.jtiRetentionSeconds: must be at least maxEventAgeSeconds',
    );
    expect(
      failure(() =>
        build({ transmitters: [transmitter({ delivery: { push: { tokenEnv: 'SSF_PUSH' } } })] }),
      ),
    ).toContain(
      'ssf.transmitters[0].delivery.push.tokenEnv: environment variable SSF_PUSH is not set',
    );
  });
});
