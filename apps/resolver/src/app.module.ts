import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthImplementation } from 'grpc-health-check';
import { ConfigModule, type ResolverConfig } from '@resolver/config';
import { IdentityModule } from '@resolver/identity';
import { Clock, InternalErrors, ResolverLogger, ResolverMetrics } from '@resolver/observability';
import {
  CacheCoherence,
  DiagnoseSubject,
  ResolveSubject,
  SubjectCaches,
} from '@resolver/resolution';
import { type DevIssuer, TokenVerifier } from '@resolver/tokens';
import { AdminCredentialGuard } from './admin/admin-credential.guard';
import { AdminDisabledController } from './admin/admin-disabled.controller';
import { AdminController } from './admin/admin.controller';
import { DiagnoseController } from './admin/diagnose.controller';
import { AssertionJwksController } from './authz/assertion-jwks.controller';
import { ExtAuthzGrpcController } from './authz/ext-authz.grpc-controller';
import { ForwardAuthRoute } from './authz/forward-auth.route';
import { ASSERTION_SIGNER, GatewayAuthorizer } from './authz/gateway-authorizer';
import type { IdentityAssertionSigner } from './authz/identity-assertion';
import { ConsoleModule } from './console/console.module';
import { DiagnoseDisabledGrpcController } from './grpc/diagnose-disabled.grpc-controller';
import { DiagnoseGrpcController } from './grpc/diagnose.grpc-controller';
import { SubjectResolverGrpcController } from './grpc/subject-resolver.grpc-controller';
import { HealthController } from './health/health.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { MigrateOnBoot } from './health/migrate-on-boot';
import { Readiness } from './health/readiness';
import { DEV_ISSUER, DevIssuerController } from './http/dev-issuer.controller';
import { MetricsController } from './http/metrics.controller';
import { ResolveRoute } from './http/resolve.route';
import { ScimModule } from './scim/scim.module';

/** What the bootstrap has already built (async, before Nest starts) and hands to the module. */
export interface AppParts {
  readonly config: ResolverConfig & { database: { url: string } };
  readonly verifier: TokenVerifier;
  readonly metrics: ResolverMetrics;
  readonly clock: Clock;
  readonly grpcHealth: HealthImplementation;
  readonly devIssuer?: DevIssuer;
  /** Present when `authz.assertion.enabled`. */
  readonly assertionSigner?: IdentityAssertionSigner;
  readonly logger: ResolverLogger;
  /** Shared with the gRPC server's (de)serialisers, which run outside Nest. */
  readonly internalErrors: InternalErrors;
}

/** The resolver service: transports wired to the ResolveSubject use case. */
@Module({})
export class AppModule {
  static forRoot(parts: AppParts): DynamicModule {
    const providers: Provider[] = [
      { provide: TokenVerifier, useValue: parts.verifier },
      { provide: ResolverMetrics, useValue: parts.metrics },
      { provide: ResolverLogger, useValue: parts.logger },
      { provide: InternalErrors, useValue: parts.internalErrors },
      { provide: Clock, useValue: parts.clock },
      { provide: HealthImplementation, useValue: parts.grpcHealth },
      MigrateOnBoot,
      ResolveSubject,
      ResolveRoute,
      ForwardAuthRoute,
      SubjectCaches,
      CacheCoherence,
      GatewayAuthorizer,
      Readiness,
    ];
    const controllers: DynamicModule['controllers'] = [
      SubjectResolverGrpcController,
      ExtAuthzGrpcController,
      MetricsController,
      HealthController,
      OpenApiController,
    ];
    if (parts.config.admin) {
      // Diagnosis explains refusals to operators: admin-only, like the rest of the admin API.
      providers.push(AdminCredentialGuard, DiagnoseSubject);
      controllers.push(AdminController, DiagnoseController, DiagnoseGrpcController);
    } else {
      controllers.push(AdminDisabledController, DiagnoseDisabledGrpcController);
    }
    // The operator console exists exactly when the admin API does, with the same credential.
    const consoleModule = parts.config.admin ? [ConsoleModule.forRoot(parts)] : [];
    if (parts.assertionSigner) {
      providers.push({ provide: ASSERTION_SIGNER, useValue: parts.assertionSigner });
      controllers.push(AssertionJwksController);
    }
    if (parts.devIssuer) {
      providers.push({ provide: DEV_ISSUER, useValue: parts.devIssuer });
      controllers.push(DevIssuerController);
    }
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(parts.config),
        IdentityModule.forRoot(parts.config.database),
        TerminusModule,
        ...consoleModule,
        // SCIM exists only when a SCIM client is configured.
        ...(parts.config.scim.clients.length ? [ScimModule.forRoot(parts)] : []),
      ],
      providers,
      controllers,
    };
  }
}
