export { seedUser, type SeedUser } from './database';

/** The five identity headers under their default names. */
export const IDENTITY_HEADERS = [
  'x-user-id',
  'x-user-email',
  'x-tenant-id',
  'x-user-roles',
  'x-principal-kind',
] as const;
