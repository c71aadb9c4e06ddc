import { decideStatus, type StatusRequest, UUID } from '@resolver/policy';
import {
  type UserRepository,
  ChangeAnnouncer,
  type ExternalIdentity,
  type IdentityTables,
  IdentityTransactions,
  type RevokedToken,
  RevocationRepository,
  StoreRefusal,
  type UserCursor,
  statusStateOf,
  type UserRecord,
} from '@resolver/identity';
import { AdminError } from './admin-error';
import type {
  CreateUserInput,
  IdentityInput,
  ListUsersInput,
  RevokeInput,
  UpdateUserInput,
} from './admin-inputs';
import { inAdminTransaction } from './admin-transaction';

/** A page of users; `nextCursor` is opaque to the caller and present when more users follow. */
export interface UserPage {
  readonly users: UserRecord[];
  readonly nextCursor?: string;
}

/**
 * User lifecycle for operators, over typed inputs that the transport has validated. Each change
 * is one transaction; cache invalidation on every replica follows from the database triggers.
 * Failures are {@link AdminError}s (400 naming the field, 404, 409) or the store's
 * `USER_STORE_UNAVAILABLE`.
 */
export class UserAdministration {
  constructor(
    private readonly store: IdentityTransactions,
    private readonly revocations: RevocationRepository,
    private readonly announcer: ChangeAnnouncer,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Creates a user (provenance `admin`) with its identities, all or nothing, in the operator's
   * namespace (`''`): its email and username are unique among the operator's users, and email
   * and username lookups of every issuer fall back to them.
   */
  create(input: CreateUserInput): Promise<UserRecord> {
    return this.tx(async ({ users, identities }) => {
      const { identities: links, status, ...fields } = input;
      const user = await users.insert({
        ...fields,
        namespace: '',
        status: decideStatus(null, 'operator', status),
        provenance: 'admin',
      });
      for (const link of links) await identities.insert(user.id, link);
      return user;
    });
  }

  async get(id: string): Promise<UserRecord> {
    return found(await this.tx(({ users }) => users.findById(id)), id);
  }

  async list(input: ListUsersInput): Promise<UserPage> {
    const { cursor, ...filter } = input;
    const page = await this.tx(({ users }) =>
      users.list({ ...filter, after: cursor === undefined ? undefined : decodeCursor(cursor) }),
    );
    return { users: page.users, nextCursor: page.next && encodeCursor(page.next) };
  }

  update(id: string, input: UpdateUserInput): Promise<UserRecord> {
    return this.change(id, (users) => users.update(id, input));
  }

  /**
   * The operator's lifecycle verbs: `active` (enable), `disabled`, `locked` set exactly that
   * status; `unlocked` lifts every lock, and a deactivation that stands (SCIM's, an import's)
   * keeps the user disabled. The row is read locked, so the decision holds when it is written.
   */
  setStatus(id: string, request: StatusRequest): Promise<UserRecord> {
    return this.change(id, async (users) => {
      const current = await users.findById(id, { lock: true });
      return (
        current && users.setStatus(id, decideStatus(statusStateOf(current), 'operator', request))
      );
    });
  }

  softDelete(id: string): Promise<UserRecord> {
    return this.change(id, (users) => users.softDelete(id));
  }

  restore(id: string): Promise<UserRecord> {
    return this.change(id, (users) => users.restore(id));
  }

  /** "Sign out everywhere": tokens issued before now are refused (TOKEN_REVOKED). */
  signOutEverywhere(id: string): Promise<UserRecord> {
    return this.change(id, (users) => users.signOutEverywhere(id));
  }

  /** The user's external identities, oldest first; 404 for an unknown user. */
  identities(userId: string): Promise<ExternalIdentity[]> {
    return this.tx(async ({ users, identities }) => {
      found(await users.findById(userId), userId);
      return identities.listForUser(userId);
    });
  }

  /** Links an identity; the user is locked so a concurrent delete cannot orphan the link. */
  link(userId: string, input: IdentityInput): Promise<ExternalIdentity> {
    return this.tx(async ({ users, identities }) => {
      found(await users.findById(userId, { lock: true }), userId);
      return identities.insert(userId, input);
    });
  }

  async unlink(userId: string, identityId: string): Promise<void> {
    const removed = await this.tx(({ identities }) => identities.delete(userId, identityId));
    if (!removed) throw new AdminError('NOT_FOUND', `no identity ${identityId} for user ${userId}`);
  }

  /** Puts a `jti` on the deny-list until the token's own expiry. */
  async revoke(input: RevokeInput): Promise<RevokedToken> {
    // A deny-list row that expires in the past would be purged at once and protects nothing: the
    // caller almost certainly meant another date (the token's exp).
    if (input.expiresAt.getTime() <= this.now().getTime())
      throw new AdminError(
        'INVALID',
        `expiresAt: ${input.expiresAt.toISOString()} is in the past; give the token's exp (a token past its exp is already refused as TOKEN_EXPIRED)`,
        'expiresAt',
      );
    try {
      await this.revocations.revoke(input);
    } catch (error) {
      // The edge refuses what the deny-list cannot hold; should the store still refuse a value,
      // that is the input's fault (400), not an outage.
      if (error instanceof StoreRefusal) throw new AdminError('INVALID', 'a value is out of range');
      throw error;
    }
    return input;
  }

  /** Tells every replica to drop its caches (through the same channel as the triggers). */
  flushCaches(): Promise<void> {
    return this.announcer.announceEverythingChanged();
  }

  /** One UPDATE of one user, as the user is afterwards; 404 when there is no such user. */
  private async change(
    id: string,
    write: (users: UserRepository) => Promise<UserRecord | null>,
  ): Promise<UserRecord> {
    return found(await this.tx(({ users }) => write(users)), id);
  }

  private tx<T>(work: (tables: IdentityTables) => Promise<T>): Promise<T> {
    return inAdminTransaction(this.store, work);
  }
}

function found(user: UserRecord | null, id: string): UserRecord {
  if (!user) throw new AdminError('NOT_FOUND', `no user ${id}`);
  return user;
}

function encodeCursor(cursor: UserCursor): string {
  return Buffer.from(`${cursor.createdAtMicros}|${cursor.id}`).toString('base64url');
}

function decodeCursor(cursor: string): UserCursor {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || !id || !/^\d{1,20}$/.test(at) || !UUID.test(id)) {
    throw new AdminError('INVALID', 'cursor: not a cursor from a previous page', 'cursor');
  }
  return { createdAtMicros: at, id };
}
