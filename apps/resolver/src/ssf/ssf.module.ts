import { Module } from '@nestjs/common';
import { SsfReceiverModule } from '@resolver/provisioning';
import { SsfPushRoute } from './ssf-push.route';

/**
 * The Shared Signals receiver's transport (push, RFC 8935, at /ssf/push/<transmitter>). Imported
 * by the app module only when `ssf.transmitters` is configured: otherwise the routes do not exist.
 */
@Module({
  imports: [SsfReceiverModule],
  providers: [SsfPushRoute],
  exports: [SsfReceiverModule],
})
export class SsfModule {}
