import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { UserEntity } from '../entities/user.entity';
import type { Provenance, StatusState } from '../user';

/*
 * How the writers' values become `users` columns in a query builder (the entity path of
 * typeorm-user-repository.ts).
 */

/** The `users` columns an outside provisioner (SCIM) sets; see {@link TypeOrmUserRepository.project}. */
export interface UserProjection {
  readonly email: string | null;
  readonly username: string;
  readonly displayName: string | null;
  /** As `decideStatus` decided it; absent: the status stays. */
  readonly status?: StatusState;
  /** Present when the provisioner takes the user over from its previous writer. */
  readonly takeOver?: { readonly provenance: Provenance; readonly namespace: string };
}

/** The status columns, always written together, as decided (see `decideStatus`). */
export function statusColumns(state: StatusState) {
  return {
    status: state.status,
    statusDecisions: {
      ...state.decisions,
    } as QueryDeepPartialEntity<UserEntity>['statusDecisions'],
  };
}

/**
 * A jsonb value for a query builder. TypeORM types an object column as a deep partial of its
 * properties, which `unknown` values cannot satisfy; the driver stores the object as JSON.
 */
export function jsonb(value: Readonly<Record<string, unknown>>) {
  return { ...value } as QueryDeepPartialEntity<UserEntity>['attributes'];
}
