import { connect } from 'node:http2';
import {
  ADMIN_TOKEN,
  AUD,
  canonicalWorld,
  ISS,
  now,
  refusedEverywhere,
  resolvedEverywhere,
} from '../support/canonical-world';
import { signWith } from '../support/hostile';
import { claimsFor } from '../support/token-factory';

/**
 * A signed token never breaks the pipeline: time claims no date can hold, bytes that are not
 * JSON, a malleable ECDSA signature and protobuf that does not parse each get one decided answer
 * on all four transports, before anything is written. Same world as canonical-subjects.e2e-spec.ts
 * (test/support/canonical-world.ts), in its own database.
 */

const w = canonicalWorld('canonical_edges');

describe('a time claim no date can hold is CLAIM_INVALID, before anything is written', () => {
  it.each([
    ['exp 1e308', { exp: 1e308 }],
    ['exp one second past year 9999', { exp: 253_402_300_800 }],
    ['exp past the JavaScript date range', { exp: 8_640_000_000_001 }],
    ['exp -1e308', { exp: -1e308 }],
    ['iat -1e308', { iat: -1e308 }],
    ['iat before year 1', { iat: -62_135_596_801 }],
    ['nbf 1e308', { nbf: 1e308 }],
  ])('%s on a JIT issuer', async (_what, times) => {
    await w.expectRefused(
      await w.token(ISS.x, { sub: 'time-traveller', ...times }),
      'CLAIM_INVALID',
    );
  });

  it('diagnose explains them instead of failing', async () => {
    for (const times of [{ exp: 1e308 }, { iat: -1e308 }, { nbf: 8_640_000_000_001 }]) {
      const raw = await w.token(ISS.x, { sub: 'time-traveller', ...times });
      const res = await w.app.http('/v1/diagnose', {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ token: raw }),
      });
      expect({ times, status: res.status, reason: res.body.verdict?.reason }).toEqual({
        times,
        status: 200,
        reason: 'CLAIM_INVALID',
      });
      const decode = res.body.steps.find((s: { step: string }) => s.step === 'decode');
      expect(Object.values(decode.details.times).join()).toContain('not a date');
    }
  });

  it('controls: the last second of year 9999 is a valid exp', async () => {
    const http = await w.app.resolveHttp({
      token: await w.token(ISS.x, { sub: 'admin', exp: 253_402_300_799 }),
    });
    expect(http.status).toBe(200);
    expect(http.body.token.expiresAt).toBe('9999-12-31T23:59:59.000Z');
    const grpc = await w.app.resolveGrpc({
      token: await w.token(ISS.x, { sub: 'admin', exp: 253_402_300_799 }),
    });
    expect(grpc).toMatchObject({ ok: true });
    expect(grpc.ok && Number(grpc.response.token.expiresAt.seconds)).toBe(253_402_300_799);
  });
});

describe('a BOM or any other non-JSON byte in the header or payload is TOKEN_MALFORMED', () => {
  const header = () => ({ alg: 'RS256', typ: 'JWT', kid: w.keys.rsa.kid });
  const payload = () => claimsFor(ISS.x, AUD, now(), { sub: 'bom-user' });

  it.each([
    ['BOM before the header', () => `\ufeff${JSON.stringify(header())}`, undefined],
    ['BOM before the payload', undefined, () => `\ufeff${JSON.stringify(payload())}`],
    [
      'BOM between header members',
      () => JSON.stringify(header()).replace(',', ',\ufeff'),
      undefined,
    ],
    ['NBSP as JSON whitespace', undefined, () => `{\u00a0${JSON.stringify(payload()).slice(1)}`],
  ])('%s', async (_what, h, p) => {
    const raw = signWith(w.keys.rsa, h ? h() : header(), p ? p() : payload());
    await w.expectRefused(raw, 'TOKEN_MALFORMED');
  });
});

describe('decided, not defects: malleable ECDSA signatures and malformed protobuf', () => {
  const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

  it('a high-s twin of an ES256 token is the same token: same user, same jti revocation', async () => {
    const claims = claimsFor(ISS.x, AUD, now(), { sub: 'admin', jti: 'twin-jti' });
    const original = signWith(w.keys.ec, { alg: 'ES256', typ: 'JWT', kid: w.keys.ec.kid }, claims);
    const [h, p, sig] = original.split('.') as [string, string, string];
    const bytes = Buffer.from(sig, 'base64url');
    const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
    const twinS = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
    const twin = `${h}.${p}.${Buffer.concat([bytes.subarray(0, 32), twinS]).toString('base64url')}`;
    expect(twin).not.toBe(original);
    expect(await w.allTransports(twin)).toEqual(resolvedEverywhere(w.ids.admin as string));
    expect(await w.allTransports(original)).toEqual(resolvedEverywhere(w.ids.admin as string));
    const revoke = await w.app.http('/admin/v1/tokens/revoke', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        issuer: ISS.x,
        jti: 'twin-jti',
        expiresAt: new Date((now() + 3600) * 1000).toISOString(),
      }),
    });
    expect(revoke.status).toBeLessThan(300);
    // The deny-list is keyed by (issuer, jti), not by the token's bytes: both spellings go.
    for (const raw of [twin, original]) {
      await waitFor(
        async () => (await w.app.resolveHttp({ token: raw })).body.reason === 'TOKEN_REVOKED',
      );
      expect(await w.allTransports(raw)).toEqual(refusedEverywhere('TOKEN_REVOKED'));
    }
  });

  it('malformed protobuf bytes are INVALID_ARGUMENT, not INTERNAL', async () => {
    const [host, port] = w.app.resolver.grpcAddress.split(':') as [string, string];
    for (const path of [
      '/identity.v1.SubjectResolver/ResolveSubject',
      '/envoy.service.auth.v3.Authorization/Check',
    ]) {
      // A tag with wire type 7, which does not exist (protobufjs throws on it).
      expect(await rawGrpcStatus(host, Number(port), path, Buffer.from([0x0f]))).toBe('3');
    }
    // The service is still fine afterwards.
    expect(
      await w.app.resolveGrpc({ token: await w.token(ISS.x, { sub: 'admin' }) }),
    ).toMatchObject({
      ok: true,
    });
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends one gRPC frame of raw bytes over HTTP/2 and returns the grpc-status trailer. */
function rawGrpcStatus(host: string, port: number, path: string, message: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${host}:${port}`);
    session.on('error', reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    let grpcStatus: string | undefined;
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status']);
    });
    stream.on('trailers', (trailers) => {
      grpcStatus = String(trailers['grpc-status']);
    });
    stream.on('data', () => undefined);
    stream.on('end', () => {
      session.close();
      if (grpcStatus === undefined) reject(new Error('no grpc-status'));
      else resolve(grpcStatus);
    });
    stream.on('error', reject);
    stream.end(frame);
  });
}
