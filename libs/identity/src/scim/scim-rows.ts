import { readDecisions } from '@resolver/policy';
import type { UserStatus } from '../user';
import type { ScimGroupRow, ScimUserRow } from './scim-store';

/** Rows as Postgres returns them, and their plain-data shapes. */
export interface UserRowSql {
  user_id: string;
  client_id: string;
  user_name: string;
  external_id: string | null;
  resource: Record<string, unknown>;
  version: number;
  status: UserStatus;
  status_decisions: unknown;
  created_at: Date;
  updated_at: Date;
}
export interface GroupRowSql {
  id: string;
  client_id: string;
  display_name: string;
  external_id: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const toUser = (r: UserRowSql): ScimUserRow => ({
  userId: r.user_id,
  clientId: r.client_id,
  userName: r.user_name,
  externalId: r.external_id,
  resource: r.resource ?? {},
  version: r.version,
  status: r.status,
  statusDecisions: readDecisions(r.status_decisions),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
export const toGroup = (r: GroupRowSql): ScimGroupRow => ({
  id: r.id,
  clientId: r.client_id,
  displayName: r.display_name,
  externalId: r.external_id,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
