import { Module } from '@nestjs/common';
import { SsfReceiverModule } from '@resolver/provisioning';
import { AdminCredentialModule } from '../shared/admin-credential.module';
import { ConsoleApiController } from './console-api.controller';
import { builtConsoleDir, ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';

/**
 * The operator console at /console: imported only when the admin API is enabled, and signed
 * into with the same credential. It serves the page built from apps/console-web and the little
 * JSON the page needs beyond the admin API.
 */
@Module({
  // The Shared Signals streams' state (the receiver's own module; empty without transmitters).
  imports: [AdminCredentialModule, SsfReceiverModule],
  providers: [{ provide: ConsoleAssets, useFactory: () => new ConsoleAssets(builtConsoleDir()) }],
  controllers: [ConsoleController, ConsoleApiController],
})
export class ConsoleModule {}
