import { type DynamicModule, Module } from '@nestjs/common';
import { HealthImplementation } from 'grpc-health-check';
import { ConfigModule, RESOLVER_CONFIG } from '@resolver/config';
import {
  Clock,
  InternalErrors,
  ResolverLogger,
  ResolverMetrics,
  Tracing,
} from '@resolver/observability';
import { TokenVerifier } from '@resolver/tokens';
import { GRPC_HEALTH_SERVICES } from '../transport/grpc-options';
import type { BootConfig } from './boot-config';

/** What only the bootstrap can hand in: the clock it was given and the logger Nest logs through. */
export interface CoreParts {
  readonly clock: Clock;
  /** Built before Nest, because Nest's own log lines go through it from the first one. */
  readonly logger: ResolverLogger;
  /** Started before Nest (the SDK only when tracing is on), flushed after it closes. */
  readonly tracing: Tracing;
}

/**
 * The parts every feature shares, built by Nest from the validated config: one metrics
 * registry, one internal-error account, one token verifier (async: key files and static keys
 * load before the first request), one gRPC health service. Global, so feature modules inject
 * them without passing instances around.
 */
@Module({})
export class CoreModule {
  static forRoot(config: BootConfig, parts: CoreParts): DynamicModule {
    const configModule = ConfigModule.forRoot(config);
    return {
      module: CoreModule,
      global: true,
      imports: [configModule],
      providers: [
        { provide: Clock, useValue: parts.clock },
        { provide: ResolverLogger, useValue: parts.logger },
        { provide: Tracing, useValue: parts.tracing },
        {
          provide: ResolverMetrics,
          useFactory: () => new ResolverMetrics(config.issuers.map((i) => i.issuer)),
        },
        {
          provide: InternalErrors,
          inject: [ResolverMetrics, ResolverLogger],
          useFactory: (metrics: ResolverMetrics, logger: ResolverLogger) =>
            new InternalErrors(metrics, logger),
        },
        {
          provide: TokenVerifier,
          inject: [RESOLVER_CONFIG, Clock, ResolverMetrics, Tracing],
          useFactory: (cfg: BootConfig, clock: Clock, metrics: ResolverMetrics, tracing: Tracing) =>
            TokenVerifier.create(
              cfg,
              clock,
              (issuer, result) => metrics.jwksFetches.labels(issuer, result).inc(),
              tracing,
            ),
        },
        {
          provide: HealthImplementation,
          useFactory: () =>
            new HealthImplementation(
              Object.fromEntries(GRPC_HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING'])),
            ),
        },
      ],
      exports: [
        configModule,
        Clock,
        ResolverLogger,
        ResolverMetrics,
        Tracing,
        InternalErrors,
        TokenVerifier,
        HealthImplementation,
      ],
    };
  }
}
