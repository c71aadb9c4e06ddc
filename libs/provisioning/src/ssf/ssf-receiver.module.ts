import { Module } from '@nestjs/common';
import { RESOLVER_CONFIG, type ResolverConfig } from '@resolver/config';
import {
  ReceivedSetRepository,
  SignalTransactions,
  TransmitterStateRepository,
} from '@resolver/identity';
import { Clock, ResolverLogger, ResolverMetrics } from '@resolver/observability';
import { transmitterKeySource } from '@resolver/tokens';
import { SsfReceiver } from './ssf-receiver';
import { SsfStreams } from './ssf-streams';

/**
 * The Shared Signals receiver for whoever delivers SETs (push route, poller) and whoever shows
 * them (console, diagnosis, metrics). Needs the config, clock, logger and metrics (the core) and
 * the identity repositories (IdentityModule), all global.
 */
@Module({
  providers: [
    {
      provide: SsfReceiver,
      inject: [
        RESOLVER_CONFIG,
        SignalTransactions,
        TransmitterStateRepository,
        Clock,
        ResolverLogger,
        ResolverMetrics,
      ],
      useFactory: (
        config: ResolverConfig,
        transactions: SignalTransactions,
        states: TransmitterStateRepository,
        clock: Clock,
        log: ResolverLogger,
        metrics: ResolverMetrics,
      ) =>
        new SsfReceiver(
          config.ssf,
          config.issuers,
          (t) =>
            transmitterKeySource(t, clock, (_issuer, result) =>
              metrics.jwksFetches.labels(`ssf:${t.name}`, result).inc(),
            ),
          transactions,
          states,
          clock,
          log,
          metrics,
        ),
    },
    {
      provide: SsfStreams,
      inject: [
        RESOLVER_CONFIG,
        TransmitterStateRepository,
        ReceivedSetRepository,
        Clock,
        ResolverMetrics,
        ResolverLogger,
      ],
      useFactory: (
        config: ResolverConfig,
        states: TransmitterStateRepository,
        received: ReceivedSetRepository,
        clock: Clock,
        metrics: ResolverMetrics,
        log: ResolverLogger,
      ) => new SsfStreams(config.ssf, states, received, clock, metrics, log),
    },
  ],
  exports: [SsfReceiver, SsfStreams],
})
export class SsfReceiverModule {}
