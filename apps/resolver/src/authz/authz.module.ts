import { type DynamicModule, Module } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { Clock } from '@resolver/observability';
import { ResolutionModule } from '../shared/resolution.module';
import { TransportModule } from '../transport/transport.module';
import { AssertionJwksController } from './assertion-jwks.controller';
import { ExtAuthzGrpcController } from './ext-authz.grpc-controller';
import { ForwardAuthLane } from './forward-auth-lane';
import { ForwardAuthRoute } from './forward-auth.route';
import { ASSERTION_SIGNER, GatewayAuthorizer } from './gateway-authorizer';
import { IdentityAssertionSigner } from './identity-assertion';

/**
 * The gateway-facing answers: forward-auth (HTTP) and Envoy ext_authz (gRPC). The signed
 * identity assertion, and its JWKS route, exist only when `authz.assertion.enabled`.
 */
@Module({})
export class AuthzModule {
  static forRoot(config: ResolverConfig): DynamicModule {
    const assertion = config.authz.assertion;
    return {
      module: AuthzModule,
      imports: [ResolutionModule, TransportModule],
      providers: [
        GatewayAuthorizer,
        ForwardAuthRoute,
        ForwardAuthLane,
        ...(assertion.enabled
          ? [
              {
                provide: ASSERTION_SIGNER,
                inject: [Clock],
                useFactory: (clock: Clock) => IdentityAssertionSigner.create(assertion, clock),
              },
            ]
          : []),
      ],
      controllers: [
        ExtAuthzGrpcController,
        ...(assertion.enabled ? [AssertionJwksController] : []),
      ],
    };
  }
}
