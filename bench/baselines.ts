import { createPublicKey, type KeyObject, randomUUID, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import { Pool } from 'pg';
import { protoFiles, RESOLVER_GRPC } from '@resolver/contract';
import type { PublicKeyEntry } from './issuers';
import { argMap, runBenchChild } from './stats';

/** The same answer the resolver gives for a cached user: the bare servers return it verbatim. */
const PRINCIPAL = {
  id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  kind: 'user',
  tenantId: '',
  email: 'u1@bench.local',
  username: 'u1',
  displayName: '',
  roles: [] as string[],
  status: 'active',
  attributes: {},
};
const TOKEN = {
  issuer: 'https://bench.idp.local',
  subject: 'u1',
  audience: ['bench'],
  jti: '',
  scopes: [] as string[],
};

/**
 * The resolver's own lookup of a cache miss (libs/identity, strategy `external`): the same
 * statement on the same indexes, prepared once per connection (a named statement), as the
 * resolver's repository sends it.
 */
const LOOKUP = {
  name: 'bench_lookup_external',
  text: `SELECT u.id, u.tenant, u.kind, u.email, u.username, u.display_name, u.roles,
  u.attributes, u.status, u.deleted_at, u.tokens_valid_after, u.provenance, u.created_at, u.updated_at
  FROM external_identities e JOIN users u ON u.id = e.user_id
    WHERE e.issuer = $1 AND e.tenant = $2 AND e.subject = $3`,
};

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
}

type Principal = typeof PRINCIPAL;
/** What a bare handler does with a token: nothing, verify it, look it up (pg), or both. */
type Work = (token: string) => Promise<{ principal: Principal; claims: Claims }>;

const json = (segment: string | undefined) =>
  JSON.parse(Buffer.from(segment ?? '', 'base64url').toString()) as Record<string, unknown>;

interface KnownKey {
  readonly key: KeyObject;
  readonly alg: string;
  /** The issuers that sign with it (the static and the JIT issuer share one key). */
  readonly issuers: string[];
}

/** The bench's public keys by `kid`, as KeyObjects made once (bench/issuers.ts). */
function keysByKid(file: string): Map<string, KnownKey> {
  const keys = new Map<string, KnownKey>();
  for (const e of JSON.parse(readFileSync(file, 'utf8')) as PublicKeyEntry[]) {
    const known = keys.get(e.kid);
    if (known) known.issuers.push(e.iss);
    else keys.set(e.kid, { key: createPublicKey(e.pem), alg: e.alg, issuers: [e.iss] });
  }
  return keys;
}

/**
 * The platform's verification: `node:crypto`'s synchronous `verify` on a cached KeyObject, and
 * the checks every verifier makes (issuer of the key, audience, `exp`, `nbf`). What a token
 * costs with no library in between: the ceiling of the resolver's cold path.
 */
function cryptoVerifier(keys: Map<string, KnownKey>, audience: string) {
  return (token: string): Claims => {
    const [h, p, s] = token.split('.');
    const header = json(h);
    const found = keys.get(String(header.kid));
    if (!found || header.alg !== found.alg) throw new Error('key');
    const input = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s ?? '', 'base64url');
    const ok =
      found.alg === 'RS256'
        ? verify('sha256', input, found.key, signature)
        : verify('sha256', input, { key: found.key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!ok) throw new Error('signature');
    const claims = json(p) as Claims;
    const now = Date.now() / 1000;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!found.issuers.includes(claims.iss as string)) throw new Error('iss');
    if (!aud.includes(audience)) throw new Error('aud');
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw new Error('exp');
    if (typeof claims.nbf === 'number' && claims.nbf > now) throw new Error('nbf');
    return claims;
  };
}

function workFor(kind: string, a: Record<string, string>): Work {
  const lookup = kind.includes('pg');
  const keys = keysByKid(a.keys as string);
  const audience = a.audience as string;
  const byCrypto = kind.includes('crypto') ? cryptoVerifier(keys, audience) : undefined;
  const byJose = kind.includes('jose')
    ? async (token: string) =>
        (
          await jwtVerify(
            token,
            (header) => {
              const found = keys.get(String(header.kid));
              if (!found) throw new Error('key');
              return found.key;
            },
            {
              audience,
              issuer: [...keys.values()].flatMap((k) => k.issuers),
              algorithms: ['ES256', 'RS256'],
            },
          )
        ).payload
    : undefined;
  const pool = lookup
    ? new Pool({ connectionString: a.database, max: Number(a.pool ?? 20) })
    : undefined;
  return async (token) => {
    const claims: Claims = byCrypto
      ? byCrypto(token)
      : byJose
        ? await byJose(token)
        : lookup
          ? // The store ceiling looks up without verifying (the resolver's store scenario
            // answers its tokens from the verified-token cache): decode the payload only.
            json(token.split('.')[1])
          : {};
    if (!pool) return { principal: PRINCIPAL, claims };
    const { rows } = await pool.query<{
      id: string;
      kind: string;
      tenant: string;
      email: string | null;
      username: string | null;
      display_name: string | null;
      roles: string[];
      status: string;
      attributes: Record<string, unknown>;
    }>({ ...LOOKUP, values: [claims.iss, '', claims.sub] });
    const row = rows[0];
    if (!row) throw new Error('not found');
    return {
      principal: {
        id: row.id,
        kind: row.kind,
        tenantId: row.tenant,
        email: row.email ?? '',
        username: row.username ?? '',
        displayName: row.display_name ?? '',
        roles: row.roles,
        status: row.status,
        attributes: row.attributes,
      },
      claims,
    };
  };
}

const bearer = (h: string | undefined) => (h?.startsWith('Bearer ') ? h.slice(7) : '');
const iso = (seconds: number | undefined) =>
  new Date(seconds ? seconds * 1000 : Date.now()).toISOString();

async function fastifyServer(port: number, work: Work): Promise<void> {
  // Request ids as the resolver makes them for a caller that sends none (a UUID).
  const app = Fastify({ genReqId: () => randomUUID() });
  app.post('/v1/resolve', async (request, reply) => {
    try {
      const { principal, claims } = await work(bearer(request.headers.authorization));
      void reply.header('x-request-id', request.id);
      return {
        principal,
        token: { ...TOKEN, expiresAt: iso(claims.exp), issuedAt: iso(claims.iat) },
        source: 'CACHE',
      };
    } catch {
      return reply.code(401).send({ reason: 'REFUSED' });
    }
  });
  // The resolver's allowed answer, header for header: the request id echoed, no-store, the
  // identity headers that have a value, and Envoy's list of those to remove (empty tenant and
  // roles here). A ratio against fewer response headers would count the answer's bytes and
  // their validation as the resolver's overhead.
  app.get('/v1/authz', async (request, reply) => {
    try {
      const { principal } = await work(bearer(request.headers.authorization));
      return reply
        .headers({
          'x-request-id': request.id,
          'cache-control': 'no-store',
          'x-envoy-auth-headers-to-remove': 'x-tenant-id,x-user-roles',
          'x-user-id': principal.id,
          'x-user-email': principal.email,
          'x-principal-kind': principal.kind,
        })
        .send();
    } catch {
      return reply.code(401).send('');
    }
  });
  await app.listen({ port, host: '127.0.0.1' });
}

type Callback = (err: { code: number } | null, res?: unknown) => void;

async function grpcServer(port: number, work: Work): Promise<void> {
  const definition = loadSync(protoFiles(), {
    ...RESOLVER_GRPC.loader,
    includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    identity: { v1: { SubjectResolver: { service: never } } };
    envoy: { service: { auth: { v3: { Authorization: { service: never } } } } };
  };
  const server = new Server();
  const timestamp = (s: number | undefined) => ({
    seconds: String(s ?? Math.floor(Date.now() / 1000)),
    nanos: 0,
  });
  const option = (key: string, value: string) => ({
    header: { key, value },
    append: { value: false },
  });
  server.addService(pkg.identity.v1.SubjectResolver.service, {
    ResolveSubject: (call: { request: { token?: string } }, callback: Callback) => {
      work(call.request.token ?? '').then(
        ({ principal, claims }) =>
          callback(null, {
            principal,
            token: { ...TOKEN, expiresAt: timestamp(claims.exp), issuedAt: timestamp(claims.iat) },
            source: 'CACHE',
          }),
        () => callback({ code: status.UNAUTHENTICATED }),
      );
    },
  });
  // Envoy's ext_authz Check, answered as the resolver answers it: OK with the identity headers
  // set and the empty ones removed.
  server.addService(pkg.envoy.service.auth.v3.Authorization.service, {
    Check: (
      call: {
        request: { attributes?: { request?: { http?: { headers?: Record<string, string> } } } };
      },
      callback: Callback,
    ) => {
      const authorization = call.request.attributes?.request?.http?.headers?.authorization;
      work(bearer(authorization)).then(
        ({ principal }) =>
          callback(null, {
            status: { code: 0, message: '' },
            okResponse: {
              headers: [
                option('x-user-id', principal.id),
                option('x-user-email', principal.email),
                option('x-principal-kind', principal.kind),
              ],
              headersToRemove: ['x-tenant-id', 'x-user-roles'],
            },
          }),
        () => callback({ code: status.UNAUTHENTICATED }),
      );
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

/**
 * Bare servers measured in the same run, on the same core, with the same generators, payloads
 * and node flags as the resolver: what a hand-written handler costs on the same framework, with
 * the same work. `--kind` is `fastify` or `grpc`, optionally `-jose` (verify the token with
 * jose's jwtVerify) or `-crypto` (node:crypto's synchronous verify on a cached KeyObject: the
 * platform's limit), and `-pg` (the resolver's indexed lookup through `pg`); `--port N`,
 * `--keys` (bench/issuers.ts' public keys), `--audience`, `--database`. Fastify answers
 * `POST /v1/resolve` with the resolver's JSON and `GET /v1/authz` with identity headers; grpc-js
 * answers `identity.v1.SubjectResolver/ResolveSubject` and Envoy's `Authorization/Check`.
 */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const kind = a.kind ?? 'fastify';
  const work = workFor(kind, a);
  if (kind.startsWith('fastify')) await fastifyServer(Number(a.port), work);
  else await grpcServer(Number(a.port), work);
  process.stdout.write('READY\n');
}

runBenchChild(main);
