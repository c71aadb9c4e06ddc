import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AdminCredentialGuard } from './admin-credential.guard';
import { checkCredentialsFirst } from './credentials-first';

/** Every path behind the admin credential: the admin API, the diagnosis and the console's data. */
const ADMIN_PATHS = /^\/(admin\/v1\/|v1\/diagnose$|console\/api\/)/;

/**
 * The admin credential check, built once (it hashes the configured token) and shared by every
 * feature behind it: the admin API, the diagnosis and the console. It is checked before a body
 * is read (an `onRequest` hook on those paths), and again by the guard on each controller; both
 * refuse with the same 401, which the one error path answers with the admin challenge.
 */
@Module({ providers: [AdminCredentialGuard], exports: [AdminCredentialGuard] })
export class AdminCredentialModule {
  constructor(adapter: HttpAdapterHost, guard: AdminCredentialGuard) {
    checkCredentialsFirst(
      adapter.httpAdapter.getInstance<FastifyInstance>(),
      ADMIN_PATHS,
      (request) => guard.check(request.headers.authorization),
    );
  }
}
