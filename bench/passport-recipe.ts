import 'reflect-metadata';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { passportJwtSecret } from 'jwks-rsa';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type VerifiedCallback } from 'passport-jwt';
import {
  Column,
  DataSource,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Repository,
} from 'typeorm';
import { argMap, runBenchChild } from './stats';

// The usual recipe for "who is the caller behind this JWT", as tutorials and the NestJS docs
// write it: passport-jwt verifies the token with a key from jwks-rsa (keys cached), and the
// user is read with TypeORM's `findOne` through the federated mapping. Written for the bench
// (issue #24) so that "× the usual recipe" is a row of the project's own table; it runs on the
// same Fastify as the bare baselines, with the same node flags, on the same core.

@Entity({ name: 'users' })
class User {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) tenant!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text', nullable: true }) email!: string | null;
  @Column({ type: 'text', nullable: true }) username!: string | null;
  @Column({ name: 'display_name', type: 'text', nullable: true }) displayName!: string | null;
  @Column({ type: 'text', array: true }) roles!: string[];
  @Column({ type: 'jsonb' }) attributes!: Record<string, unknown>;
  @Column({ type: 'text' }) status!: string;
}

@Entity({ name: 'external_identities' })
class ExternalIdentity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) issuer!: string;
  @Column({ type: 'text' }) tenant!: string;
  @Column({ type: 'text' }) subject!: string;
  @ManyToOne(() => User)
  @JoinColumn({ name: 'user_id' })
  user!: User;
}

interface Claims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
}

function strategy(a: Record<string, string>, identities: Repository<ExternalIdentity>) {
  return new JwtStrategy(
    {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: passportJwtSecret({
        jwksUri: a.jwks as string,
        cache: true,
        rateLimit: true,
        jwksRequestsPerMinute: 10,
      }),
      issuer: a.issuer,
      audience: a.audience,
      algorithms: ['RS256', 'ES256'],
    },
    (payload: Claims, done: VerifiedCallback) => {
      identities
        .findOne({
          where: { issuer: payload.iss, tenant: '', subject: payload.sub },
          relations: { user: true },
        })
        .then(
          (identity) => done(null, identity ? { user: identity.user, claims: payload } : false),
          (error: unknown) => done(error, false),
        );
    },
  );
}

/** passport's middleware on Fastify's raw request and response: the user, or false. */
function authenticate(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ user: User; claims: Claims } | false> {
  return new Promise((resolve, reject) => {
    const middleware = passport.authenticate(
      'jwt',
      { session: false },
      (error: unknown, found: { user: User; claims: Claims } | false) =>
        error
          ? reject(error instanceof Error ? error : new Error('passport failed'))
          : resolve(found),
    ) as (req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => void;
    middleware(req, res, reject);
  });
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** `--port`, `--database`, `--jwks` (the JWKS URL), `--issuer`, `--audience`. */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const ds = new DataSource({
    type: 'postgres',
    url: a.database,
    entities: [User, ExternalIdentity],
    extra: { max: 20 },
  });
  await ds.initialize();
  passport.use(strategy(a, ds.getRepository(ExternalIdentity)));
  const app = Fastify();
  app.post('/v1/resolve', async (request, reply) => {
    const found = await authenticate(request.raw, reply.raw);
    if (!found) return reply.code(401).send({ reason: 'REFUSED' });
    const { user, claims } = found;
    return {
      principal: {
        id: user.id,
        kind: user.kind,
        tenantId: user.tenant,
        email: user.email ?? '',
        username: user.username ?? '',
        displayName: user.displayName ?? '',
        roles: user.roles,
        status: user.status,
        attributes: user.attributes,
      },
      token: {
        issuer: claims.iss,
        subject: claims.sub,
        audience: Array.isArray(claims.aud) ? claims.aud : [claims.aud],
        expiresAt: iso(claims.exp),
        issuedAt: iso(claims.iat),
      },
      source: 'STORE',
    };
  });
  await app.listen({ port: Number(a.port), host: '127.0.0.1' });
  process.stdout.write('READY\n');
}

runBenchChild(main);
