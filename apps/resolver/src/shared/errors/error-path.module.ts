import { Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ErrorFilter } from './error.filter';
import { GrpcErrorPath } from './grpc-error-path';
import { HttpErrorPath } from './http-error-path';
import { RouteTable } from './route-table';

/**
 * The one error path, registered once for the whole app — HTTP, and gRPC through the
 * microservice's `inheritAppConfig` — and exported to the routes registered on Fastify directly,
 * whose error handler it also is.
 */
@Global()
@Module({
  providers: [
    RouteTable,
    HttpErrorPath,
    GrpcErrorPath,
    { provide: APP_FILTER, useClass: ErrorFilter },
  ],
  exports: [HttpErrorPath],
})
export class ErrorPathModule {}
