import { type DynamicModule, Module } from '@nestjs/common';
import { InternalErrors, ResolverMetrics } from '@resolver/observability';
import { AdminCredentialGuard } from '../admin/admin-credential.guard';
import { ConsoleApiController } from './console-api.controller';
import { builtConsoleDir, ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';

/**
 * The operator console at /console: imported only when the admin API is enabled, and signed
 * into with the same credential. It serves the page built from apps/console-web and the little
 * JSON the page needs beyond the admin API.
 */
@Module({})
export class ConsoleModule {
  static forRoot(parts: {
    readonly metrics: ResolverMetrics;
    readonly internalErrors: InternalErrors;
  }): DynamicModule {
    return {
      module: ConsoleModule,
      providers: [
        { provide: ResolverMetrics, useValue: parts.metrics },
        // The admin problem filter accounts for unexpected errors, as on the admin API.
        { provide: InternalErrors, useValue: parts.internalErrors },
        AdminCredentialGuard,
        { provide: ConsoleAssets, useFactory: () => new ConsoleAssets(builtConsoleDir()) },
      ],
      controllers: [ConsoleController, ConsoleApiController],
    };
  }
}
