import type { UserRecord } from '@resolver/identity';
import { ResolutionError } from '@resolver/reasons';

/** Step 8: barred users are refused with their own reasons; deletion outranks status. */
export function assertUsable(user: UserRecord): void {
  if (user.deletedAt) throw new ResolutionError('USER_DELETED', `user ${user.id} is deleted`);
  switch (user.status) {
    case 'active':
      return;
    case 'disabled':
      throw new ResolutionError('USER_DISABLED', `user ${user.id} is disabled`);
    case 'locked':
      throw new ResolutionError('USER_LOCKED', `user ${user.id} is locked`);
  }
}
