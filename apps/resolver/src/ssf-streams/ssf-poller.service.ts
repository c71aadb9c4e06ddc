import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import { AdvisoryLock, SsfStreamRepository } from '@resolver/identity';
import { Clock, ResolverLogger, ResolverMetrics, SsfPollMetrics } from '@resolver/observability';
import { SsfPoller, SsfReceiver, SsfStreamManagement } from '@resolver/provisioning';

/**
 * The RFC 8936 poller's life in this process: started once the app has booted (migrations done),
 * stopped on shutdown, which waits for a poll in flight and releases the advisory locks so
 * another replica takes over at its next try. Readiness never depends on it: a transmitter
 * that is down delays events, not answers.
 */
@Injectable()
export class SsfPollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly poller: SsfPoller;
  readonly metrics: SsfPollMetrics;

  constructor(
    @Inject(RESOLVER_CONFIG) config: ResolverConfig,
    management: SsfStreamManagement,
    streams: SsfStreamRepository,
    receiver: SsfReceiver,
    clock: Clock,
    metrics: ResolverMetrics,
    log: ResolverLogger,
  ) {
    const polled = config.ssf.transmitters.filter((t) => t.delivery.poll).map((t) => t.name);
    this.metrics = new SsfPollMetrics(metrics.registry, polled, () => clock.nowMs(), Date.now());
    const url = config.database.url as string;
    this.poller = new SsfPoller(
      config.ssf.transmitters,
      management,
      streams,
      async (transmitter, set) => {
        const receipt = await receiver.receive(transmitter, set);
        return receipt.ok
          ? { result: 'ok' }
          : { result: 'err', err: receipt.err, description: receipt.description };
      },
      (transmitter) =>
        new AdvisoryLock(url, `ssf-poll:${transmitter}`, config.database.connectTimeoutMs),
      {
        polled: (transmitter, result, detail) => {
          if (result === 'standby') return;
          this.metrics.polls.labels(transmitter, result).inc();
          if (result === 'ok') this.metrics.lastSuccess(transmitter, clock.now());
          if (result === 'refused')
            log.pino.error(
              { event: 'ssf_poll', transmitter, result, detail },
              `ssf: not polling ${transmitter}: ${detail ?? ''}`,
            );
          else if (result === 'failed')
            log.pino.warn(
              { event: 'ssf_poll', transmitter, result, detail },
              `ssf: poll of ${transmitter} failed: ${detail ?? ''}`,
            );
        },
        record: (transmitter, record) =>
          this.metrics.lastSuccess(transmitter, record?.lastPollOkAt),
      },
      () => clock.now(),
    );
  }

  onApplicationBootstrap(): void {
    this.poller.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.poller.stop();
  }
}
