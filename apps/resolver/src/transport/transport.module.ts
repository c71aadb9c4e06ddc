import { Module } from '@nestjs/common';
import { GRPC_SERVER_PROVIDER } from './grpc-server.provider';
import { TransportSecurity } from './tls/transport-security';

/**
 * The gRPC server strategy the bootstrap connects (the served protos, reflection, health), and
 * the transport security of both listeners (TLS, reloading, client-certificate callers).
 */
@Module({ providers: [TransportSecurity, GRPC_SERVER_PROVIDER] })
export class TransportModule {}
