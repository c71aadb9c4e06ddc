/**
 * Which SCIM attribute each unique index (or uniqueness trigger) a SCIM write can meet protects,
 * for 409 uniqueness answers (an e2e spec holds it to what the migrations create). The `users`
 * ones are per namespace: a conflict there is with a user of this client's own issuer, or with
 * an operator's user, never with another issuer's.
 */
export const SCIM_CONSTRAINT_ATTRIBUTES: Readonly<Record<string, string>> = {
  users_namespace_username_live_key: 'userName',
  scim_users_user_name_live_key: 'userName',
  users_namespace_email_live_key: 'emails',
  users_operator_username_key: 'userName',
  users_operator_email_key: 'emails',
  scim_groups_display_name_key: 'displayName',
  scim_group_members_pkey: 'members',
  scim_users_pkey: 'id',
  scim_groups_pkey: 'id',
  users_pkey: 'id',
  external_identities_key: 'subject',
  external_identities_pkey: 'id',
};
