import { ScimUsers } from '@resolver/provisioning';
import { scimResourceController } from './scim-resource.controller';

/** /scim/v2/Users: every decision is in {@link ScimUsers}. */
export const ScimUsersController = scimResourceController({
  path: 'Users',
  cases: ScimUsers,
  operation: 'users',
  audit: { action: 'scim.user', id: (userId) => ({ userId }) },
});
