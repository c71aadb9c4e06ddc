import { Server, ServerCredentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import 'reflect-metadata';
import { Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import Fastify from 'fastify';
import { protoFiles, RESOLVER_GRPC } from '../apps/resolver/src/grpc/grpc-options';
import { argMap, runBenchChild } from './stats';

/** The same answer the resolver gives for a cached user: the baselines return it verbatim. */
const PRINCIPAL = {
  id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  kind: 'user',
  tenantId: '',
  email: 'u1@bench.local',
  username: 'u1',
  displayName: '',
  roles: [],
  status: 'active',
  attributes: {},
};
const TOKEN = {
  issuer: 'https://bench.idp.local',
  subject: 'u1',
  audience: ['bench'],
  jti: '',
  scopes: [],
};

/**
 * Bare servers measured in the same run, on the same machine, with the same load generators:
 * a Fastify handler returning the resolver's JSON, and a @grpc/grpc-js unary echo of the
 * resolver's message; and the same JSON from a one-controller Nest app (the framework's ceiling).
 * `--kind fastify|nest|grpc --port N`.
 */
async function main(): Promise<void> {
  const a = argMap(process.argv.slice(2));
  const port = Number(a.port);
  if (a.kind === 'nest') {
    // The framework's own ceiling: Nest on Fastify, one controller, no resolver work.
    @Controller('v1')
    class EchoController {
      @Post('resolve')
      @HttpCode(200)
      resolve() {
        return {
          principal: PRINCIPAL,
          token: {
            ...TOKEN,
            expiresAt: new Date().toISOString(),
            issuedAt: new Date().toISOString(),
          },
          source: 'CACHE',
        };
      }
    }
    @Module({ controllers: [EchoController] })
    class EchoModule {}
    const app = await NestFactory.create<NestFastifyApplication>(EchoModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(port, '127.0.0.1');
  } else if (a.kind === 'fastify') {
    const app = Fastify();
    app.post('/v1/resolve', () => ({
      principal: PRINCIPAL,
      token: { ...TOKEN, expiresAt: new Date().toISOString(), issuedAt: new Date().toISOString() },
      source: 'CACHE',
    }));
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
    const seconds = String(Math.floor(Date.now() / 1000));
    server.addService(pkg.identity.v1.SubjectResolver.service, {
      ResolveSubject: (_call: unknown, callback: (err: null, res: unknown) => void) =>
        callback(null, {
          principal: PRINCIPAL,
          token: { ...TOKEN, expiresAt: { seconds, nanos: 0 }, issuedAt: { seconds, nanos: 0 } },
          source: 'CACHE',
        }),
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
