import type { ScimConfig } from '@resolver/config';
import { decideStatus } from '@resolver/policy';
import {
  describeNonCanonical,
  findNonCanonical,
  foldEmail,
  ScimConflict,
  type ScimListQuery,
  ScimStore,
  statusStateOf,
  type ScimTransaction,
  type ScimUserRow,
} from '@resolver/identity';
import { compileFilter, compileSort } from './filter-compiler';
import { applyPatch, checkPatchBody } from './patch';
import { validateResource, type ValidatedResource } from './resource-input';
import { userEtag, userResource } from './resource-output';
import { type ScimCaller, subjectFor } from './scim-client';
import { ScimError } from './scim-error';
import { ENTERPRISE_SCHEMA, LIST_SCHEMA } from './scim-schemas';

/** A list request's query (or a POST .search body), as received. */
export interface ScimListRequest {
  readonly filter?: string;
  readonly startIndex?: string | number;
  readonly count?: string | number;
  readonly sortBy?: string;
  readonly sortOrder?: string;
}

/** The outcome of a write, for the transport's log line and ETag header. */
export interface ScimWritten {
  readonly resource: Record<string, unknown>;
  readonly etag: string;
  readonly id: string;
}

/** Checks `If-Match` against the current version: refused when it names another (`*` matches all). */
export function checkIfMatch(ifMatch: string | undefined, etag: string): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  if (!ifMatch.split(',').some((t) => strip(t) === strip(etag)))
    throw new ScimError('preconditionFailed', `If-Match: the resource is at version ${etag}`);
}

/** Paging and sorting for both resource types (RFC 7644 §3.4.2.4). */
export function listQuery(
  request: ScimListRequest,
  kind: 'User' | 'Group',
  config: ScimConfig,
): ScimListQuery {
  const int = (v: string | number | undefined, name: string, fallback: number): number => {
    if (v === undefined || v === '') return fallback;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isInteger(n))
      throw ScimError.invalid('invalidValue', `${name}: must be an integer`);
    return n;
  };
  return {
    filter:
      request.filter !== undefined && request.filter !== ''
        ? compileFilter(String(request.filter), kind)
        : undefined,
    sort: request.sortBy ? compileSort(String(request.sortBy), request.sortOrder, kind) : undefined,
    startIndex: Math.max(1, int(request.startIndex, 'startIndex', 1)),
    count: Math.min(config.maxResults, Math.max(0, int(request.count, 'count', config.maxResults))),
  };
}

/**
 * SCIM Users for one client: each request in one transaction, scoped to the client's issuer
 * and tenant; the `users` row (what resolution reads), the external identity link (so the
 * issuer's tokens resolve without JIT) and the SCIM representation change together.
 */
export class ScimUsers {
  constructor(
    private readonly store: ScimStore,
    private readonly config: ScimConfig,
  ) {}

  create(caller: ScimCaller, body: unknown): Promise<ScimWritten> {
    const input = this.validate(body);
    const subject = this.subject(caller, input);
    return this.store.transaction(async (tx) => {
      const { client } = caller;
      // A user JIT (or an operator) created for this subject before SCIM was switched on is
      // taken over rather than refused: the link already says it is this IdP's user. Never one
      // that is also someone else's (another issuer's link or namespace): managing it would
      // reach past this client's users, so that is the operator's call (409).
      const held = subject === undefined ? null : await tx.findLinked(client, subject);
      if (held && !held.scim && held.kind === 'user') {
        if (held.foreign)
          throw ScimError.uniqueness(
            `${client.subjectAttribute}: the user holding this subject also belongs to another issuer or tenant; an operator must unlink it there before this client can manage it`,
          );
        // Its status is decided like any SCIM write: an operator's lock or deactivation stands.
        const status =
          input.active === undefined
            ? undefined
            : decideStatus(held.status, 'scim', activeRequest(input.active));
        await tx.adoptUser(client, client.id, held.userId, columns(input), status);
        return this.written(tx, caller, held.userId);
      }
      const status = decideStatus(null, 'scim', activeRequest(input.active ?? true));
      const id = await tx.insertUser(client, client.id, columns(input), status);
      if (subject !== undefined) await this.link(tx, caller, id, subject);
      return this.written(tx, caller, id);
    });
  }

  get(caller: ScimCaller, id: string): Promise<ScimWritten> {
    return this.store.transaction((tx) => this.written(tx, caller, id));
  }

  replace(caller: ScimCaller, id: string, body: unknown, ifMatch?: string): Promise<ScimWritten> {
    const input = this.validate(body);
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, userEtag(row));
      return this.save(tx, caller, row, input);
    });
  }

  patch(caller: ScimCaller, id: string, body: unknown, ifMatch?: string): Promise<ScimWritten> {
    const ops = checkPatchBody(body, this.config.maxOperations);
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, userEtag(row));
      const current = userResource(row, [], caller.baseUrl);
      delete current.groups;
      // `active` as shown is the status, not SCIM's request: it stays out unless an operation
      // sets it, so a PATCH of other attributes never turns an operator's lock into a SCIM
      // deactivation.
      delete current.active;
      const patched = applyPatch(current, ops, 'User');
      return this.save(tx, caller, row, this.validate(patched));
    });
  }

  /** Soft delete: the user's tokens are refused (USER_DELETED) and the userName is free again. */
  delete(caller: ScimCaller, id: string, ifMatch?: string): Promise<void> {
    return this.store.transaction(async (tx) => {
      const row = await this.locked(tx, caller, id);
      checkIfMatch(ifMatch, userEtag(row));
      await tx.deleteUser(row.userId, caller.client.id);
    });
  }

  list(caller: ScimCaller, request: ScimListRequest): Promise<Record<string, unknown>> {
    const query = listQuery(request, 'User', this.config);
    return this.store.transaction(async (tx) => {
      const page = await tx.listUsers(caller.client, query);
      const groups = await tx.groupsOf(page.rows.map((r) => r.userId));
      return {
        schemas: [LIST_SCHEMA],
        totalResults: page.total,
        startIndex: query.startIndex,
        itemsPerPage: page.rows.length,
        Resources: page.rows.map((r) =>
          userResource(r, groups.get(r.userId) ?? [], caller.baseUrl),
        ),
      };
    });
  }

  private validate(body: unknown): ValidatedResource {
    return validateResource(body, 'User', { maxValues: this.config.maxOperations });
  }

  /**
   * The subject this client's tokens will carry for the user, or undefined while the user has
   * none: externalId is optional (RFC 7643 §3.1), and such a user is stored without a link, so
   * no token reaches it until a PUT or PATCH gives it one.
   */
  private subject(caller: ScimCaller, input: ValidatedResource): string | undefined {
    const attribute = caller.client.subjectAttribute;
    const raw = subjectValue(attribute, input.attributes);
    return raw === undefined ? undefined : subjectFor(raw, attribute, caller.client.subject);
  }

  private async locked(tx: ScimTransaction, caller: ScimCaller, id: string): Promise<ScimUserRow> {
    const row = await tx.findUser(caller.client, id, true);
    if (!row) throw ScimError.notFound(`no User ${id}`);
    return row;
  }

  private async save(
    tx: ScimTransaction,
    caller: ScimCaller,
    row: ScimUserRow,
    input: ValidatedResource,
  ): Promise<ScimWritten> {
    const subject = this.subject(caller, input);
    const attribute = caller.client.subjectAttribute;
    // A linked user keeps a subject: unlinking it silently would strand its tokens unexplained.
    if (subject === undefined && subjectValue(attribute, storedAttributes(row)) !== undefined)
      throw ScimError.invalid(
        'mutability',
        `${attribute}: this user's tokens resolve by it; it can be changed, not removed (DELETE the user to cut its tokens off)`,
      );
    // A PUT that does not mention `active` leaves the status as it is; otherwise the status is
    // decided on the locked row: SCIM lifts only its own deactivation.
    const status =
      input.active === undefined
        ? undefined
        : decideStatus(statusStateOf(row), 'scim', activeRequest(input.active));
    await tx.updateUser(row.userId, caller.client.id, columns(input), status);
    if (subject !== undefined) await this.link(tx, caller, row.userId, subject);
    return this.written(tx, caller, row.userId);
  }

  /** The subject link, with a 409 that names the attribute carrying the subject. */
  private async link(
    tx: ScimTransaction,
    caller: ScimCaller,
    userId: string,
    subject: string,
  ): Promise<void> {
    try {
      await tx.linkSubject(caller.client, userId, subject);
    } catch (error) {
      if (error instanceof ScimConflict && error.attribute === 'subject')
        throw ScimError.uniqueness(
          `${caller.client.subjectAttribute}: another user already carries this subject`,
        );
      throw error;
    }
  }

  private async written(tx: ScimTransaction, caller: ScimCaller, id: string): Promise<ScimWritten> {
    const row = await tx.findUser(caller.client, id, false);
    if (!row) throw ScimError.notFound(`no User ${id}`);
    const groups = await tx.groupsOf([row.userId]);
    return {
      id: row.userId,
      etag: userEtag(row),
      resource: userResource(row, groups.get(row.userId) ?? [], caller.baseUrl),
    };
  }
}

/** The value of the client's subject attribute in a user's attributes; undefined when absent. */
function subjectValue(attribute: string, attributes: Readonly<Record<string, unknown>>): unknown {
  if (attribute === 'externalId' || attribute === 'userName')
    return attributes[attribute] ?? undefined;
  const cut = attribute.lastIndexOf(':');
  if (attribute.slice(0, cut).toLowerCase() !== ENTERPRISE_SCHEMA.toLowerCase()) return undefined;
  const name = attribute.slice(cut + 1).toLowerCase();
  const ext = attributes[ENTERPRISE_SCHEMA];
  if (typeof ext !== 'object' || ext === null) return undefined;
  return Object.entries(ext).find(([k]) => k.toLowerCase() === name)?.[1] ?? undefined;
}

/** A stored user's attributes as validated input holds them (the subject attribute included). */
function storedAttributes(row: ScimUserRow): Record<string, unknown> {
  return { ...row.resource, userName: row.userName, externalId: row.externalId ?? undefined };
}

/** SCIM's `active`, as a status request. */
const activeRequest = (active: boolean) => (active ? 'active' : 'disabled');

/** What the `users` row holds of a SCIM user: the fields resolution answers with. */
function columns(input: ValidatedResource) {
  const a = input.attributes;
  const emails = (a.emails as { value?: string; primary?: boolean }[] | undefined) ?? [];
  const email = (emails.find((e) => e.primary) ?? emails[0])?.value;
  const name = a.name as
    { formatted?: string; givenName?: string; familyName?: string } | undefined;
  const composed = [name?.givenName, name?.familyName].filter(Boolean).join(' ');
  const { externalId, userName, ...resource } = a;
  return {
    userName: canonical('userName', userName as string),
    externalId: (externalId as string | undefined) ?? null,
    resource,
    // Stored as the resolver's email lookups compare it (ASCII case folded), never trimmed or
    // normalised into another address.
    email: email && email.length <= 320 ? canonicalEmail(email) : null,
    displayName: (a.displayName as string | undefined) ?? name?.formatted ?? (composed || null),
  };
}

/**
 * An identifier SCIM stores (the userName becomes `users.username`, which username lookups
 * match), held to the rules of every stored identifier: as sent, or 400 invalidValue naming the
 * attribute and the code point. Never trimmed or normalised into another user's.
 */
function canonical(attribute: string, value: string): string {
  const found = findNonCanonical(value);
  if (found)
    throw ScimError.invalid(
      'invalidValue',
      `${attribute}: not canonical: ${describeNonCanonical(found)}`,
    );
  return value;
}

/** The primary email as stored (ASCII case folded), or invalidValue as {@link canonical}. */
function canonicalEmail(email: string): string {
  return foldEmail(canonical('emails', email));
}
