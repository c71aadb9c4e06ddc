import { type DynamicModule, Module } from '@nestjs/common';
import type { ResolverConfig } from '@resolver/config';
import { AdminCredentialGuard } from './admin-credential.guard';
import { AdminDisabledController } from './admin-disabled.controller';
import { AdminController } from './admin.controller';

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
      providers: [AdminCredentialGuard],
      controllers: [AdminController],
    };
  }
}
