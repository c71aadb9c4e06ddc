import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { GrpcErrorFilter } from './grpc-error.filter';
import { GRPC_SERVER_PROVIDER } from './grpc-server.provider';
import { HttpProblemFilter } from './http-problem.filter';
import { TransportErrorFilter } from './transport-error.filter';

/**
 * What every feature's adapters share and Nest must hold: the error translation, registered
 * once for the whole app — HTTP, and gRPC through the microservice's `inheritAppConfig` — and
 * the gRPC server strategy the bootstrap connects.
 */
@Module({
  providers: [
    HttpProblemFilter,
    GrpcErrorFilter,
    { provide: APP_FILTER, useClass: TransportErrorFilter },
    GRPC_SERVER_PROVIDER,
  ],
})
export class TransportModule {}
