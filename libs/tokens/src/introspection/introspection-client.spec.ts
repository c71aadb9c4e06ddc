import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { IntrospectionConfig } from '@resolver/config';
import { FixedClock } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { clientAuthenticator } from './client-auth';
import {
  type EndpointResponse,
  IntrospectionClient,
  MAX_CACHED_ANSWERS,
  postForm,
  type SendForm,
} from './introspection-client';

const ENDPOINT = 'https://as.example/introspect';
const NOW = Date.parse('2026-06-01T00:00:00Z');
const nowS = NOW / 1000;

const config = (extra: Partial<IntrospectionConfig> = {}): IntrospectionConfig => ({
  clientAuth: { method: 'client_secret_basic', clientId: 'rs 1', secret: 's:cret' },
  requiredScopes: [],
  cacheCapSeconds: 60,
  negativeCacheSeconds: 5,
  timeoutMs: 500,
  maxConcurrent: 32,
  maxResponseBytes: 65_536,
  signedResponses: false,
  ...extra,
});
const json = (body: unknown, status = 200): EndpointResponse => ({
  status,
  contentType: 'application/json; charset=utf-8',
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** A fake endpoint: records each request, answers with `answer`. */
function fakeEndpoint(
  answer: (form: URLSearchParams) => Promise<EndpointResponse> | EndpointResponse,
) {
  const calls: { headers: Record<string, string>; form: URLSearchParams }[] = [];
  const send: SendForm = async (url, headers, form) => {
    expect(url).toBe(ENDPOINT);
    calls.push({ headers, form });
    return answer(form);
  };
  return { calls, send };
}

async function clientWith(send: SendForm, extra: Partial<IntrospectionConfig> = {}) {
  const clock = new FixedClock(new Date(NOW));
  const c = config(extra);
  const client = new IntrospectionClient(
    'https://as.example',
    c,
    () => Promise.resolve(ENDPOINT),
    await clientAuthenticator(c.clientAuth, 'issuers[0]'),
    clock,
    send,
  );
  return { client, clock };
}

const reasonOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (error) {
    if (error instanceof ResolutionError) return [error.reason, error.message] as const;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('IntrospectionClient', () => {
  it('posts the token in the form with client_secret_basic (RFC 6749 §2.3.1 encoding) and the hint', async () => {
    const endpoint = fakeEndpoint(() => json({ active: true, exp: nowS + 300, sub: 'a' }));
    const { client } = await clientWith(endpoint.send, { tokenTypeHint: 'access_token' });
    const answer = await client.introspect('opaque-1', 'h1');
    expect(answer).toMatchObject({ cached: false, stale: false, freshUntilMs: NOW + 60_000 });
    const [call] = endpoint.calls;
    expect(call?.form.get('token')).toBe('opaque-1');
    expect(call?.form.get('token_type_hint')).toBe('access_token');
    expect(call?.form.has('client_secret')).toBe(false);
    expect(call?.headers.authorization).toBe(
      `Basic ${Buffer.from('rs+1:s%3Acret').toString('base64')}`,
    );
  });

  it('client_secret_post puts the credentials in the form; private_key_jwt a fresh RFC 7523 assertion', async () => {
    const post = fakeEndpoint(() => json({ active: false }));
    const { client } = await clientWith(post.send, {
      clientAuth: { method: 'client_secret_post', clientId: 'rs', secret: 'sec' },
    });
    await reasonOf(client.introspect('t', 'h'));
    expect(Object.fromEntries(post.calls[0]!.form)).toEqual({
      client_id: 'rs',
      client_secret: 'sec',
      token: 't',
    });

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const dir = await mkdtemp(join(tmpdir(), 'pkjwt-'));
    await writeFile(`${dir}/key.pem`, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const jwt = fakeEndpoint(() => json({ active: false }));
    const { client: jwtClient } = await clientWith(jwt.send, {
      clientAuth: {
        method: 'private_key_jwt',
        clientId: 'rs',
        privateKeyFile: `${dir}/key.pem`,
        algorithm: 'ES256',
        keyId: 'k1',
      },
    });
    await reasonOf(jwtClient.introspect('t1', 'h1'));
    await reasonOf(jwtClient.introspect('t2', 'h2'));
    const forms = jwt.calls.map((c) => c.form);
    expect(forms[0]?.get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    const keys = createLocalJWKSet({
      keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }],
    });
    const verified = await Promise.all(
      forms.map((f) =>
        jwtVerify(f.get('client_assertion')!, keys, {
          issuer: 'rs',
          subject: 'rs',
          audience: ENDPOINT,
          currentDate: new Date(NOW),
        }),
      ),
    );
    expect(verified[0]!.payload.jti).not.toBe(verified[1]!.payload.jti);
  });

  it('caches an active answer until min(exp, cap), keyed by the hash, and asks again after', async () => {
    const endpoint = fakeEndpoint(() => json({ active: true, exp: nowS + 30, scope: 'a b' }));
    const { client, clock } = await clientWith(endpoint.send);
    await client.introspect('tok', 'hash');
    clock.advance(29_000);
    expect(await client.introspect('tok', 'hash')).toMatchObject({ cached: true });
    expect(endpoint.calls).toHaveLength(1);
    clock.advance(1_000);
    // Past exp: asked again (and the endpoint's answer decides).
    expect(await client.introspect('tok', 'hash')).toMatchObject({ cached: false });
    expect(endpoint.calls).toHaveLength(2);
  });

  it('an inactive answer is TOKEN_INACTIVE, remembered for negativeCacheSeconds only', async () => {
    const endpoint = fakeEndpoint(() => json({ active: false }));
    const { client, clock } = await clientWith(endpoint.send);
    expect((await reasonOf(client.introspect('bad', 'hb')))[0]).toBe('TOKEN_INACTIVE');
    clock.advance(4_999);
    expect((await reasonOf(client.introspect('bad', 'hb')))[0]).toBe('TOKEN_INACTIVE');
    expect(endpoint.calls).toHaveLength(1);
    clock.advance(1);
    await reasonOf(client.introspect('bad', 'hb'));
    expect(endpoint.calls).toHaveLength(2);
  });

  it('a failing endpoint is INTROSPECTION_UNAVAILABLE; a 401 names the client authentication', async () => {
    for (const [response, message] of [
      [json({ error: 'server_error' }, 502), /answered HTTP 502/],
      [
        json({ error: 'invalid_client' }, 401),
        /client authentication \(client_secret_basic as rs 1\)/,
      ],
      [{ status: 200, contentType: 'text/html', body: '<html>' }, /not application\/json/],
      [json('not json'), /not JSON/],
      [json('[true]'), /not a JSON object/],
      [json({ active: 'true' }), /boolean "active"/],
      [json('{"__proto__":{"active":true}}'), /boolean "active"/],
      [json('{"active":false,"active":true}'), /duplicate member/],
    ] as const) {
      const { client } = await clientWith(fakeEndpoint(() => response).send);
      const [reason, text] = await reasonOf(client.introspect('t', 'h'));
      expect([reason, text]).toEqual(['INTROSPECTION_UNAVAILABLE', expect.stringMatching(message)]);
    }
    const { client } = await clientWith(() => Promise.reject(new Error('connect ECONNREFUSED')));
    expect((await reasonOf(client.introspect('t', 'h')))[0]).toBe('INTROSPECTION_UNAVAILABLE');
  });

  it('keeps prototype keys as plain own data of a null-prototype object', async () => {
    const body =
      '{"active":true,"sub":"a","constructor":{"prototype":{"x":1}},"__proto__":{"admin":true}}';
    const { client } = await clientWith(fakeEndpoint(() => json(body)).send);
    const { claims } = await client.introspect('t', 'h');
    expect(Object.getPrototypeOf(claims)).toBeNull();
    expect(Object.keys(claims)).toEqual(['active', 'sub', 'constructor', '__proto__']);
    expect((claims as { admin?: unknown }).admin).toBeUndefined();
    expect(({} as { admin?: unknown }).admin).toBeUndefined();
  });

  it('serves an earlier active answer during an outage only within its own exp', async () => {
    let down = false;
    const endpoint = fakeEndpoint(() =>
      down ? Promise.reject(new Error('down')) : json({ active: true, exp: nowS + 120 }),
    );
    const { client, clock } = await clientWith(endpoint.send);
    await client.introspect('tok', 'h');
    down = true;
    clock.advance(61_000); // past the cap, within exp
    expect(await client.introspect('tok', 'h')).toMatchObject({ cached: true, stale: true });
    clock.advance(60_000); // past exp
    expect((await reasonOf(client.introspect('tok', 'h')))[0]).toBe('INTROSPECTION_UNAVAILABLE');
  });

  it('holds at most MAX_CACHED_ANSWERS answers, the oldest going first; a repeated token keeps its newest', async () => {
    const endpoint = fakeEndpoint((form) =>
      json({ active: form.get('token') !== 'gone', exp: nowS + 300, sub: form.get('token') }),
    );
    const { client } = await clientWith(endpoint.send);
    await client.introspect('first', 'h-first');
    await reasonOf(client.introspect('gone', 'h-gone')); // an inactive answer, held too
    for (let i = 0; i < MAX_CACHED_ANSWERS * 2; i++) {
      await client.introspect(`t${i}`, `h${i}`);
      if (i % 1000 === 0) await client.introspect('first', 'h-first'); // fresh: from the cache
      expect(client.heldAnswers).toBeLessThanOrEqual(MAX_CACHED_ANSWERS);
    }
    // The newest half is always held; the first answers were dropped and are asked again.
    expect(client.hasFreshAnswer(`h${MAX_CACHED_ANSWERS * 2 - 1}`)).toBe(true);
    expect(client.hasFreshAnswer(`h${MAX_CACHED_ANSWERS * 2 - MAX_CACHED_ANSWERS / 2}`)).toBe(true);
    expect(client.hasFreshAnswer('h0')).toBe(false);
    expect(client.hasFreshAnswer('h-gone')).toBe(false);
    const asked = (t: string) => endpoint.calls.filter((c) => c.form.get('token') === t).length;
    expect(asked('t1')).toBe(1);
    // Looked up 20 times, asked again only after its answer aged out of the bound.
    expect(asked('first')).toBeLessThanOrEqual(
      1 + (MAX_CACHED_ANSWERS * 2) / (MAX_CACHED_ANSWERS / 2),
    );
    const calls = endpoint.calls.length;
    await client.introspect('t0', 'h0');
    expect(endpoint.calls.length).toBe(calls + 1);
  });

  it('concurrent requests for one token share one call; peek never writes the cache', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const endpoint = fakeEndpoint(async () => {
      await held;
      return json({ active: true, exp: nowS + 300 });
    });
    const { client } = await clientWith(endpoint.send);
    const all = Array.from({ length: 50 }, () => client.introspect('same', 'hs'));
    release();
    await Promise.all(all);
    expect(endpoint.calls).toHaveLength(1);

    const peeked = fakeEndpoint(() => json({ active: true, exp: nowS + 300 }));
    const { client: diag } = await clientWith(peeked.send);
    await diag.introspect('p', 'hp', true);
    await diag.introspect('p', 'hp', true);
    expect(peeked.calls).toHaveLength(2);
  });

  it('bounds the calls in flight; a call waiting past the timeout is INTROSPECTION_UNAVAILABLE', async () => {
    let inFlight = 0;
    let most = 0;
    const endpoint = fakeEndpoint(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return json({ active: true, exp: nowS + 300 });
    });
    const { client } = await clientWith(endpoint.send, { maxConcurrent: 2, timeoutMs: 1_000 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => client.introspect(`t${i}`, `h${i}`)));
    expect([most, endpoint.calls.length]).toEqual([2, 6]);

    const hung = fakeEndpoint(() => new Promise<EndpointResponse>(() => undefined));
    const { client: stuck } = await clientWith(hung.send, { maxConcurrent: 1, timeoutMs: 100 });
    void stuck.introspect('a', 'ha').catch(() => undefined);
    const started = Date.now();
    expect((await reasonOf(stuck.introspect('b', 'hb')))[0]).toBe('INTROSPECTION_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('postForm (the real HTTP request)', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      if (req.url === '/huge') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"active":true,"pad":"${'x'.repeat(200_000)}"}`);
        return;
      }
      if (req.url === '/redirect') {
        res.writeHead(302, { location: '/ok' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"active":false}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const limits = { timeoutMs: 300, maxBytes: 65_536 };

  it('reads a bounded answer, refuses a larger one, never follows a redirect, times out a hung endpoint', async () => {
    expect(await postForm(`${url}/ok`, {}, new URLSearchParams({ token: 't' }), limits)).toEqual({
      status: 200,
      contentType: 'application/json',
      body: '{"active":false}',
    });
    await expect(postForm(`${url}/huge`, {}, new URLSearchParams(), limits)).rejects.toThrow(
      /larger than 65536/,
    );
    expect((await postForm(`${url}/redirect`, {}, new URLSearchParams(), limits)).status).toBe(302);
    const started = Date.now();
    await expect(postForm(`${url}/hang`, {}, new URLSearchParams(), limits)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
