import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { Clock } from '@resolver/observability';
import { ChangeAnnouncer, IdentityTransactions, RevocationRepository } from '@resolver/identity';
import { UserAdministration, UserImport } from '@resolver/provisioning';
import { AdminCredentialModule } from '../shared/admin-credential.module';
import { AdminDisabledController } from './admin-disabled.controller';
import { AdminController } from './admin.controller';

/** The admin use cases (plain classes in libs/provisioning) over the identity repositories. */
const ADMIN_USE_CASES: Provider[] = [
  {
    provide: UserAdministration,
    inject: [IdentityTransactions, RevocationRepository, ChangeAnnouncer, Clock],
    useFactory: (
      store: IdentityTransactions,
      revocations: RevocationRepository,
      announcer: ChangeAnnouncer,
      clock: Clock,
    ) => new UserAdministration(store, revocations, announcer, () => clock.now()),
  },
  {
    provide: UserImport,
    inject: [IdentityTransactions],
    useFactory: (store: IdentityTransactions) => new UserImport(store),
  },
];

/**
 * The admin API, served only with a configured credential; otherwise its disabled variant,
 * whose 404 says how to enable it (for /v1/diagnose too).
 */
@Module({})
export class AdminModule {
  static forRoot(config: ResolverConfig): DynamicModule {
    if (!config.admin) return { module: AdminModule, controllers: [AdminDisabledController] };
    return {
      module: AdminModule,
      imports: [AdminCredentialModule],
      providers: ADMIN_USE_CASES,
      controllers: [AdminController],
    };
  }
}
