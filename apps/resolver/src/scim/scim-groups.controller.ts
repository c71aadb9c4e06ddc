import { ScimGroups } from '@resolver/provisioning';
import { scimResourceController } from './scim-resource.controller';

/** /scim/v2/Groups: every decision is in {@link ScimGroups}. */
export const ScimGroupsController = scimResourceController({
  path: 'Groups',
  cases: ScimGroups,
  operation: 'groups',
  audit: { action: 'scim.group', id: (groupId) => ({ detail: { groupId } }) },
});
