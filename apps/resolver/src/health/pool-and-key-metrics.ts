import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Clock, ResolverMetrics } from '@resolver/observability';
import { TokenVerifier } from '@resolver/tokens';

/**
 * Connects the gauges read at scrape time to what they measure: the connection pool behind
 * TypeORM and the age of each issuer's keys. Nothing is sampled between scrapes.
 */
@Injectable()
export class PoolAndKeyMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: ResolverMetrics,
    private readonly dataSource: DataSource,
    private readonly verifier: TokenVerifier,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.metrics.trackPool(() => {
      // pg's Pool behind TypeORM; absent once the DataSource is destroyed.
      const pool = (this.dataSource.driver as PostgresDriver).master as Pool | undefined;
      return pool
        ? {
            inUse: pool.totalCount - pool.idleCount,
            idle: pool.idleCount,
            waiting: pool.waitingCount,
          }
        : undefined;
    });
    this.metrics.trackKeyAges(() =>
      this.verifier.issuers().flatMap((issuer) => {
        const fetchedAt = issuer.keys.state().lastFetchAt;
        return fetchedAt
          ? [
              {
                issuer: issuer.config.issuer,
                ageSeconds: (this.clock.now().getTime() - fetchedAt.getTime()) / 1000,
              },
            ]
          : [];
      }),
    );
  }
}
