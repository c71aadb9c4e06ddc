import { Controller, Get } from '@nestjs/common';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { CacheCoherence } from '@resolver/resolution';
import { TokenVerifier } from '@resolver/tokens';
import { Readiness } from './readiness';

/**
 * Liveness (the process answers) and readiness (database reachable, migrations applied), plus a
 * `keys` indicator with each issuer's key state (ok, pending, degraded, unavailable). The keys
 * indicator informs but never fails readiness: every replica sees the same IdP, so taking this
 * one out of rotation cannot help and would turn one issuer's outage into an outage of all of
 * them. Tokens of an issuer without usable keys are answered KEYS_UNAVAILABLE (503) instead.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
    private readonly coherence: CacheCoherence,
    private readonly verifier: TokenVerifier,
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
      () => this.indicators.check('keys').up({ issuers: this.keyStates() }),
    ]);
  }

  private keyStates(): Record<string, Record<string, unknown>> {
    const states: Record<string, Record<string, unknown>> = {};
    for (const verifier of this.verifier.issuers()) {
      const state = verifier.keys.state();
      states[verifier.config.issuer] = {
        status: state.status,
        source: state.kind,
        keys: state.keyIds.length,
        lastFetchAt: state.lastFetchAt?.toISOString(),
        lastError: state.lastError,
      };
    }
    return states;
  }
}
