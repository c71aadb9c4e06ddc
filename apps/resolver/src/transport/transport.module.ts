import { Module } from '@nestjs/common';
import { GRPC_SERVER_PROVIDER } from './grpc-server.provider';

/** The gRPC server strategy the bootstrap connects (the served protos, reflection, health). */
@Module({ providers: [GRPC_SERVER_PROVIDER] })
export class TransportModule {}
