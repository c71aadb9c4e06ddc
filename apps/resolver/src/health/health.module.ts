import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ResolutionModule } from '../shared/resolution.module';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { MigrateOnBoot } from './migrate-on-boot';
import { PoolAndKeyMetrics } from './pool-and-key-metrics';
import { Readiness } from './readiness';

/**
 * What operators and orchestrators ask of the process: liveness, readiness (HTTP and the gRPC
 * health service), /metrics, and the migrations applied at boot that readiness waits for.
 */
@Module({
  imports: [TerminusModule, ResolutionModule],
  providers: [MigrateOnBoot, Readiness, PoolAndKeyMetrics],
  controllers: [HealthController, MetricsController],
  exports: [Readiness],
})
export class HealthModule {}
