import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import { Pool } from 'pg';
import { protoFiles, RESOLVER_GRPC } from '@resolver/contract';
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
  exp?: number;
  iat?: number;
}

/** What a bare handler does with a token: nothing, verify it (jose), look it up (pg), or both. */
type Work = (token: string) => Promise<{ principal: typeof PRINCIPAL; claims: Claims }>;

function workFor(kind: string, a: Record<string, string>): Work {
  const verify = kind.includes('jose');
  const lookup = kind.includes('pg');
  const key: KeyObject | undefined = verify
    ? createPublicKey(readFileSync(a.key as string, 'utf8'))
    : undefined;
  const options = { issuer: a.issuer, audience: a.audience, algorithms: ['ES256'] };
  const pool = lookup
    ? new Pool({ connectionString: a.database, max: Number(a.pool ?? 20) })
    : undefined;
  return async (token) => {
    const claims: Claims = verify
      ? (await jwtVerify(token, key as KeyObject, options)).payload
      : lookup
        ? // The store ceiling looks up without verifying (the resolver's store scenario
          // answers its tokens from the verified-token cache): decode the payload only.
          (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Claims)
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

/**
 * Bare servers measured in the same run, on the same core, with the same generators and
 * payloads as the resolver: what a hand-written handler costs on the same framework, with the
 * same work. `--kind` is `fastify` or `grpc`, optionally `-jose` (verify the token with jose's
 * jwtVerify, the same key and checks), `-pg` (the resolver's indexed lookup through `pg`) or
 * `-jose-pg`; `--port N`, and `--key --issuer --audience` / `--database` for the work.
 * Fastify answers `POST /v1/resolve` with the resolver's JSON and `GET /v1/authz` with its
 * identity headers; grpc-js answers `identity.v1.SubjectResolver/ResolveSubject`.
 */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const port = Number(a.port);
  const kind = a.kind ?? 'fastify';
  const work = workFor(kind, a);
  if (kind.startsWith('fastify')) {
    const app = Fastify();
    app.post('/v1/resolve', async (request, reply) => {
      try {
        const { principal, claims } = await work(bearer(request.headers.authorization));
        return {
          principal,
          token: { ...TOKEN, expiresAt: iso(claims.exp), issuedAt: iso(claims.iat) },
          source: 'CACHE',
        };
      } catch {
        return reply.code(401).send({ reason: 'REFUSED' });
      }
    });
    app.get('/v1/authz', async (request, reply) => {
      try {
        const { principal } = await work(bearer(request.headers.authorization));
        return reply
          .headers({
            'x-user-id': principal.id,
            'x-user-email': principal.email,
            'x-user-roles': principal.roles.join(','),
            'x-tenant-id': principal.tenantId,
          })
          .send('');
      } catch {
        return reply.code(401).send('');
      }
    });
    await app.listen({ port, host: '127.0.0.1' });
  } else {
    const definition = loadSync(protoFiles(), {
      ...RESOLVER_GRPC.loader,
      includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
    });
    const pkg = loadPackageDefinition(definition) as unknown as {
      identity: { v1: { SubjectResolver: { service: never } } };
    };
    const server = new Server();
    const timestamp = (s: number | undefined) => ({
      seconds: String(s ?? Math.floor(Date.now() / 1000)),
      nanos: 0,
    });
    server.addService(pkg.identity.v1.SubjectResolver.service, {
      ResolveSubject: (
        call: { request: { token?: string } },
        callback: (err: { code: number } | null, res?: unknown) => void,
      ) => {
        work(call.request.token ?? '').then(
          ({ principal, claims }) =>
            callback(null, {
              principal,
              token: {
                ...TOKEN,
                expiresAt: timestamp(claims.exp),
                issuedAt: timestamp(claims.iat),
              },
              source: 'CACHE',
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
  process.stdout.write('READY\n');
}

runBenchChild(main);
