import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthImplementation } from 'grpc-health-check';
import { Clock, ConfigModule, type ResolverConfig } from '@resolver/config';
import { IdentityModule } from '@resolver/identity';
import { ResolverLogger, ResolverMetrics } from '@resolver/observability';
import { ResolveSubject } from '@resolver/resolution';
import { type DevIssuer, TokenVerifier } from '@resolver/tokens';
import { SubjectResolverGrpcController } from './grpc/subject-resolver.grpc-controller';
import { HealthController } from './health/health.controller';
import { Readiness } from './health/readiness';
import { DEV_ISSUER, DevIssuerController } from './http/dev-issuer.controller';
import { MetricsController } from './http/metrics.controller';
import { ResolveController } from './http/resolve.controller';

/** What the bootstrap has already built (async, before Nest starts) and hands to the module. */
export interface AppParts {
  readonly config: ResolverConfig & { database: { url: string } };
  readonly verifier: TokenVerifier;
  readonly metrics: ResolverMetrics;
  readonly clock: Clock;
  readonly grpcHealth: HealthImplementation;
  readonly devIssuer?: DevIssuer;
  readonly logger: ResolverLogger;
}

/** The resolver service: transports wired to the ResolveSubject use case. */
@Module({})
export class AppModule {
  static forRoot(parts: AppParts): DynamicModule {
    const providers: Provider[] = [
      { provide: TokenVerifier, useValue: parts.verifier },
      { provide: ResolverMetrics, useValue: parts.metrics },
      { provide: ResolverLogger, useValue: parts.logger },
      { provide: Clock, useValue: parts.clock },
      { provide: HealthImplementation, useValue: parts.grpcHealth },
      ResolveSubject,
      Readiness,
    ];
    const controllers: DynamicModule['controllers'] = [
      ResolveController,
      SubjectResolverGrpcController,
      MetricsController,
      HealthController,
    ];
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
      ],
      providers,
      controllers,
    };
  }
}
