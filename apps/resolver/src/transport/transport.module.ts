import { Module } from '@nestjs/common';
import { GrpcLanes } from './grpc-lanes';
import { GRPC_SERVER_PROVIDER } from './grpc-server.provider';
import { ClientCertificates } from './tls/client-certificates';
import { TransportSecurity } from './tls/transport-security';

/**
 * The gRPC server strategy the bootstrap connects (the served protos, reflection, health), and
 * the transport security of both listeners (TLS, reloading, client-certificate callers).
 */
@Module({
  providers: [TransportSecurity, ClientCertificates, GrpcLanes, GRPC_SERVER_PROVIDER],
  exports: [ClientCertificates, GrpcLanes],
})
export class TransportModule {}
