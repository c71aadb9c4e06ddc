import { readDecisions, readSignals } from '@resolver/policy';
import type { UserEntity } from '../entities/user.entity';
import type { UserRecord } from '../user';

/** The columns every user query selects, in the shape {@link toUserRecord} reads. */
export const USER_COLUMNS = `u.id, u.tenant, u.namespace, u.kind, u.email, u.username, u.display_name,
  u.roles, u.attributes, u.status, u.status_decisions, u.deleted_at, u.tokens_valid_after,
  u.provenance, u.created_at, u.updated_at, u.signals`;

export interface UserRow {
  id: string;
  tenant: string;
  namespace: string;
  kind: UserRecord['kind'];
  email: string | null;
  username: string | null;
  display_name: string | null;
  roles: string[];
  attributes: Record<string, unknown>;
  status: UserRecord['status'];
  status_decisions: unknown;
  deleted_at: Date | null;
  tokens_valid_after: Date | null;
  provenance: UserRecord['provenance'];
  signals?: unknown;
  created_at: Date;
  updated_at: Date;
}

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    namespace: row.namespace,
    kind: row.kind,
    email: row.email,
    username: row.username,
    displayName: row.display_name,
    roles: row.roles ?? [],
    attributes: row.attributes ?? {},
    status: row.status,
    statusDecisions: readDecisions(row.status_decisions),
    deletedAt: row.deleted_at,
    tokensValidAfter: row.tokens_valid_after,
    signals: readSignals(row.signals),
    provenance: row.provenance,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The plain record of a loaded {@link UserEntity} (no ORM object leaves this lib). */
export function entityToUserRecord(e: UserEntity): UserRecord {
  return {
    id: e.id,
    tenant: e.tenant,
    namespace: e.namespace,
    kind: e.kind,
    email: e.email,
    username: e.username,
    displayName: e.displayName,
    roles: e.roles ?? [],
    attributes: e.attributes ?? {},
    status: e.status,
    statusDecisions: readDecisions(e.statusDecisions),
    deletedAt: e.deletedAt,
    tokensValidAfter: e.tokensValidAfter,
    signals: readSignals(e.signals),
    provenance: e.provenance,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  };
}
