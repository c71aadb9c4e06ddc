import { hs256, provisionedRows, signWith } from '../../support/hostile';
import {
  claims,
  HMAC_SECRET,
  HostileWorld,
  hostileWorld,
  ISS,
  NOW,
  TOL,
} from '../../support/hostile-world';
import { claimCases } from './claims.cases';
import { headerAndShapeCases } from './header-and-shape.cases';
import { signatureCases } from './signature.cases';
import { tokenKeyCases } from './token-keys.cases';

/**
 * The hostile-token suites' catalogue and controls: the same world accepts genuine tokens, so
 * the refusals of the other suites in this folder mean something.
 */
const world = hostileWorld('security_controls');

describe('hostile tokens: the catalogue', () => {
  // Cases are only declared here (none is made): an unstarted world is enough.
  const unstarted = new HostileWorld();
  const CASES = [signatureCases, tokenKeyCases, headerAndShapeCases, claimCases].flatMap((c) =>
    c(unstarted),
  );

  it(`has at least 40 crafted tokens in every family of the issue (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.family))).toEqual(
      new Set([
        'alg none',
        'key confusion',
        'token-supplied keys',
        'kid injection',
        'header extensions',
        'psychic signatures',
        'claims',
        'subject',
        'typ / token age',
        'size and shape',
      ]),
    );
  });
});

describe('controls: the same setup accepts genuine tokens (so the refusals above mean something)', () => {
  it('a genuine RS256 token for the attacked issuer provisions a user (the row counts can move)', async () => {
    const { app, db } = world;
    const before = await provisionedRows(db);
    const http = await app.resolveHttp({
      token: world.genuine(claims(ISS.a, { sub: 'control-rs' })),
    });
    expect(http.status).toBe(200);
    expect(http.body.source).toBe('PROVISIONED');
    expect(await provisionedRows(db)).toEqual({
      users: before.users + 1,
      links: before.links + 1,
    });
  });

  it('a genuine ES256 token, an HMAC token with the real secret and an RFC 9068 access token resolve', async () => {
    const { app } = world;
    const es = signWith(world.keys.ec, world.ecHeader(), claims(ISS.a, { sub: 'control-es' }));
    const hs = hs256(
      HMAC_SECRET,
      { alg: 'HS256', typ: 'JWT' },
      claims(ISS.h, { sub: 'control-hs' }),
    );
    const at = world.genuine(
      claims(ISS.t, { sub: 'control-at', client_id: 'c', jti: 'j', iat: NOW - 3600 }),
      { typ: 'application/at+jwt' },
    );
    for (const token of [es, hs, at]) {
      expect((await app.resolveHttp({ token })).status).toBe(200);
      expect(await app.resolveGrpc({ token })).toMatchObject({ ok: true });
    }
  });

  it('accepts the last valid second of every tolerance boundary', async () => {
    for (const overrides of [{ exp: NOW - TOL + 1 }, { nbf: NOW + TOL }, { iat: NOW + TOL }]) {
      const http = await world.app.resolveHttp({
        token: world.genuine(claims(ISS.n, { sub: 'admin', ...overrides })),
      });
      expect({ overrides, status: http.status }).toEqual({ overrides, status: 200 });
    }
  });

  it('"admin" resolves on the look-alike issuer, so its variants above were told apart', async () => {
    const http = await world.app.resolveHttp({
      token: world.genuine(claims(ISS.n, { sub: 'admin' })),
    });
    expect(http.status).toBe(200);
    expect(http.body.principal.username).toBe('admin');
  });
});
