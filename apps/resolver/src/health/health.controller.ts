import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { CacheCoherence } from '@resolver/resolution';
import { Readiness } from './readiness';

/** Liveness (the process answers) and readiness (database reachable, migrations applied). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
    private readonly coherence: CacheCoherence,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 1_000 }),
      async () => {
        const session = this.indicators.check('migrations');
        try {
          return (await this.readiness.migrationsApplied())
            ? session.up()
            : session.down({ message: 'pending migrations' });
        } catch {
          return session.down({ message: 'cannot read migration state' });
        }
      },
      // Reported, not required: without the listener the resolver still answers correctly,
      // it just stops using its caches (every request goes to the store) until it reconnects.
      () => {
        const state = this.coherence.state();
        return this.indicators.check('listener').up({
          connected: state.connected,
          cachesInUse: state.cachesInUse,
          since: state.since.toISOString(),
          reconnects: state.reconnects,
        });
      },
    ]);
  }
}
