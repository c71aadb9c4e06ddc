import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { Readiness } from './readiness';

/** Liveness (the process answers) and readiness (database reachable, migrations applied). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    // While shutting down, an extra failing indicator turns readiness false whatever else says.
    const draining = this.readiness.draining
      ? [() => this.indicators.check('shutdown').down({ message: 'shutting down' })]
      : [];
    return this.health.check([
      ...draining,
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
    ]);
  }
}
