import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ProofReplayRepository } from '@resolver/identity';
import { Clock } from '@resolver/observability';

/** How often each replica deletes the DPoP proofs whose window closed (a window is ~1 min). */
const PURGE_INTERVAL_MS = 60_000;

/**
 * Purges the DPoP replay table by time, so it holds about one window of proofs. Every replica
 * runs it; a purge that fails is retried at the next interval (expired rows are never read as
 * held, so they cost only space meanwhile).
 */
@Injectable()
export class ProofReplayPurge implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly proofs: ProofReplayRepository,
    private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One purge; the number of proofs deleted, 0 when the store did not answer. */
  async purge(): Promise<number> {
    try {
      return await this.proofs.purgeExpired(this.clock.now());
    } catch {
      return 0;
    }
  }
}
