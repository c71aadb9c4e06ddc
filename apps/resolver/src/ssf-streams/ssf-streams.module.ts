import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { SsfStreamRepository, TransmitterStateRepository } from '@resolver/identity';
import { Clock } from '@resolver/observability';
import { SsfReceiverModule, SsfStreamManagement } from '@resolver/provisioning';
import { AdminCredentialModule } from '../shared/admin-credential.module';
import { SsfPollerService } from './ssf-poller.service';
import { SsfStreamsController } from './ssf-streams.controller';

const PROVIDERS: Provider[] = [
  {
    provide: SsfStreamManagement,
    inject: ['SSF_TRANSMITTERS', SsfStreamRepository, TransmitterStateRepository, Clock],
    useFactory: (
      transmitters: ResolverConfig['ssf']['transmitters'],
      streams: SsfStreamRepository,
      states: TransmitterStateRepository,
      clock: Clock,
    ) => new SsfStreamManagement(transmitters, streams, states, () => clock.now()),
  },
  SsfPollerService,
];

/**
 * Shared Signals stream management and poll delivery: the poller (for transmitters with
 * `delivery.poll`) and, with the admin API on, its routes. Imported only when a transmitter is
 * configured.
 */
@Module({})
export class SsfStreamsModule {
  static forRoot(config: ResolverConfig): DynamicModule {
    return {
      module: SsfStreamsModule,
      imports: [SsfReceiverModule, ...(config.admin ? [AdminCredentialModule] : [])],
      providers: [{ provide: 'SSF_TRANSMITTERS', useValue: config.ssf.transmitters }, ...PROVIDERS],
      controllers: config.admin ? [SsfStreamsController] : [],
      exports: [SsfStreamManagement, SsfPollerService],
    };
  }
}
