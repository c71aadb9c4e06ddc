import { Module } from '@nestjs/common';
import { SsfReceiver, SsfReceiverModule } from '@resolver/provisioning';
import { SubjectCaches } from '@resolver/resolution';
import { ResolutionModule } from '../shared/resolution.module';
import { SsfPushRoute } from './ssf-push.route';

/**
 * The Shared Signals receiver's transport (push, RFC 8935, at /ssf/push/<transmitter>). Imported
 * by the app module only when `ssf.transmitters` is configured: otherwise the routes do not exist.
 */
@Module({
  imports: [SsfReceiverModule, ResolutionModule],
  providers: [SsfPushRoute],
  exports: [SsfReceiverModule],
})
export class SsfModule {
  constructor(receiver: SsfReceiver, caches: SubjectCaches) {
    // This replica answers from the new state at once; the others drop it on the notification.
    receiver.onUserChanged((userId) => caches.apply({ table: 'users', op: 'UPDATE', userId }));
  }
}
