import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { HealthImplementation } from 'grpc-health-check';
import { migrationsApplied } from '@resolver/identity';
import { DataSource } from 'typeorm';
import { GRPC_HEALTH_SERVICES } from '../transport/grpc-options';

const GRPC_HEALTH_INTERVAL_MS = 5_000;

/**
 * Readiness: the database answers and every committed migration is applied. HTTP readiness
 * asks on demand; the gRPC health service is refreshed on an interval.
 */
@Injectable()
export class Readiness implements OnModuleInit, OnApplicationShutdown {
  private migrationsDone = false;
  private shuttingDown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly grpcHealth: HealthImplementation,
  ) {}

  /** True once migrations are known applied (they are never un-applied by a running service). */
  async migrationsApplied(): Promise<boolean> {
    if (!this.migrationsDone) this.migrationsDone = await migrationsApplied(this.dataSource);
    return this.migrationsDone;
  }

  /** True from the moment shutdown begins: load balancers must stop sending. */
  get draining(): boolean {
    return this.shuttingDown;
  }

  /** First step of a graceful shutdown: report not ready (HTTP and gRPC), permanently. */
  beginShutdown(): void {
    this.shuttingDown = true;
    clearInterval(this.timer);
    for (const service of GRPC_HEALTH_SERVICES) this.grpcHealth.setStatus(service, 'NOT_SERVING');
  }

  async ready(): Promise<boolean> {
    if (this.shuttingDown) return false;
    try {
      await this.dataSource.query('SELECT 1');
      return await this.migrationsApplied();
    } catch {
      return false;
    }
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.refreshGrpcHealth(), GRPC_HEALTH_INTERVAL_MS);
    this.timer.unref();
  }

  async refreshGrpcHealth(): Promise<void> {
    const status = (await this.ready()) ? 'SERVING' : 'NOT_SERVING';
    if (this.shuttingDown) return;
    for (const service of GRPC_HEALTH_SERVICES) this.grpcHealth.setStatus(service, status);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    for (const service of GRPC_HEALTH_SERVICES) this.grpcHealth.setStatus(service, 'NOT_SERVING');
  }
}
