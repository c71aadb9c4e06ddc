import {
  type OnApplicationBootstrap,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { Clock } from '@resolver/observability';
import { ChangeListener, type ListenerState, RevocationRepository } from '@resolver/identity';
import { SubjectCaches } from './subject-caches';

const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * Keeps this replica's caches coherent with the database: LISTENs for the triggers' NOTIFY on a
 * dedicated connection, drops affected entries, and on a lost connection stops using caches,
 * flushes them, reconnects with backoff, reloads the deny-list and only then trusts them again.
 * Also purges expired deny-list rows.
 */
@Injectable()
export class CacheCoherence implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('CacheCoherence');
  private readonly listener: ChangeListener;
  private purgeTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(RESOLVER_CONFIG) config: ResolverConfig,
    private readonly caches: SubjectCaches,
    private readonly revocations: RevocationRepository,
    private readonly clock: Clock,
  ) {
    this.listener = new ChangeListener(
      config.database.url as string,
      {
        onChange: (event) => this.caches.apply(event),
        onReset: (reason) => {
          this.logger.warn(`caches flushed and bypassed: ${reason}`);
          this.caches.reset();
        },
        onListening: () => void this.trust(),
      },
      config.database.connectTimeoutMs,
    );
  }

  /** After every module's init, so start-up migrations have created the tables it reads. */
  async onApplicationBootstrap(): Promise<void> {
    await this.listener.start();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.purgeTimer);
    await this.listener.stop();
  }

  state(): ListenerState & { cachesInUse: boolean } {
    return { ...this.listener.status(), cachesInUse: this.caches.coherent };
  }

  /** Loads the deny-list and marks caches trustworthy; retried by the next reconnect on failure. */
  private async trust(): Promise<void> {
    try {
      const active = await this.revocations.listActive(this.clock.now());
      if (this.listener.status().connected) this.caches.markCoherent(active);
    } catch (error) {
      this.logger.warn(
        `could not load revocations, caches stay off for now: ${(error as Error).message}`,
      );
      const retry = setTimeout(() => {
        if (this.listener.status().connected && !this.caches.coherent) void this.trust();
      }, 1_000);
      retry.unref();
    }
  }

  private async purge(): Promise<void> {
    try {
      const purged = await this.revocations.purgeExpired(this.clock.now());
      if (purged) this.logger.log(`purged ${purged} expired revocations`);
    } catch {
      // The next interval tries again; expired rows are harmless meanwhile.
    }
  }
}
