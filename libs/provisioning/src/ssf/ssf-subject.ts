import type { IssuerConfig } from '@resolver/config';
import type { LookupKey } from '@resolver/identity';
import { findNonCanonical, MAX_SESSION_ID_LENGTH, normaliseSubject } from '@resolver/policy';
import { isResolutionError } from '@resolver/reasons';
import { SetError } from '@resolver/tokens';

/** Whose users a transmitter's events may act on: the resolver issuer's policy, one tenant. */
export interface SubjectBinding {
  readonly issuer: Pick<IssuerConfig, 'issuer' | 'subject'>;
  /** `''`: the issuer's users without a tenant. */
  readonly tenant: string;
}

/** A subject identifier mapped to the keys tokens of the bound issuer are looked up by. */
export interface MappedSubject {
  /** Every key the subject names (one, or one per alias); empty when none can name a user. */
  readonly keys: readonly LookupKey[];
  /** The session a complex subject names (`session`), if any. */
  readonly sessionId?: string;
}

const MAX_ALIASES = 16;
const MAX_EMAIL_LENGTH = 320;

/**
 * Maps an SSF subject (SSF 1.0 §3, RFC 9493 subject identifiers) to lookup keys with the same
 * rules as a token's subject: the bound issuer's subject policy (canonical subjects only, only
 * the folds the operator configured, no rewriting), its lookup strategy, the bound tenant.
 *
 * - `iss_sub`: `iss` must be the bound issuer (otherwise `access_denied`); `sub` is the value of
 *   the issuer's subject claim, looked up by the issuer's strategy;
 * - `opaque`: `id` as such a subject of the bound issuer;
 * - `email`: looked up by email (the email lookup's own ASCII case fold, nothing more);
 * - `complex`: its `user` (any simple format), `session` (`opaque`: the session id) and
 *   `tenant` (`opaque`: must be the bound tenant, otherwise `access_denied`);
 * - `aliases`: each of its `identifiers`; a foreign one is `access_denied`;
 * - other formats (`phone_number`, `account`, `did`, `uri`) name no user here: no keys.
 *
 * A malformed subject is `invalid_request` naming the member. Members are read as own
 * properties only.
 */
export function mapSubject(raw: unknown, binding: SubjectBinding): MappedSubject {
  const subject = object(raw, 'sub_id');
  const format = member(subject, 'format');
  if (format === 'complex') return complex(subject, binding);
  if (format === 'aliases') {
    const identifiers = member(subject, 'identifiers');
    if (!Array.isArray(identifiers) || identifiers.length === 0 || identifiers.length > MAX_ALIASES)
      throw invalid(`sub_id.identifiers must be a list of 1-${MAX_ALIASES} subject identifiers`);
    return {
      keys: identifiers.flatMap((id, i) =>
        simple(object(id, `sub_id.identifiers[${i}]`), binding, `sub_id.identifiers[${i}]`),
      ),
    };
  }
  return { keys: simple(subject, binding, 'sub_id') };
}

function complex(subject: object, binding: SubjectBinding): MappedSubject {
  const tenant = member(subject, 'tenant');
  if (tenant !== undefined) {
    const id = opaqueId(tenant, 'sub_id.tenant');
    if (id !== binding.tenant)
      throw new SetError(
        'access_denied',
        'sub_id.tenant is not the tenant this transmitter acts on',
      );
  }
  const session = member(subject, 'session');
  const sessionId = session === undefined ? undefined : opaqueId(session, 'sub_id.session');
  if (sessionId !== undefined && sessionId.length > MAX_SESSION_ID_LENGTH)
    throw invalid(`sub_id.session.id exceeds ${MAX_SESSION_ID_LENGTH} characters`);
  const user = member(subject, 'user');
  const keys =
    user === undefined ? [] : simple(object(user, 'sub_id.user'), binding, 'sub_id.user');
  return sessionId === undefined ? { keys } : { keys, sessionId };
}

function simple(subject: object, binding: SubjectBinding, at: string): LookupKey[] {
  const format = member(subject, 'format');
  const key = (value: string, strategy: LookupKey['strategy']): LookupKey => ({
    issuer: binding.issuer.issuer,
    tenant: binding.tenant,
    subject: value,
    strategy,
    kind: 'user',
  });
  switch (format) {
    case 'iss_sub': {
      const iss = member(subject, 'iss');
      if (typeof iss !== 'string') throw invalid(`${at}.iss must be a string`);
      if (iss !== binding.issuer.issuer)
        throw new SetError('access_denied', `${at}.iss is not the issuer this transmitter acts on`);
      return [
        key(
          issuerSubject(member(subject, 'sub'), binding.issuer.subject, `${at}.sub`),
          binding.issuer.subject.lookup,
        ),
      ];
    }
    case 'opaque':
      return [
        key(
          issuerSubject(member(subject, 'id'), binding.issuer.subject, `${at}.id`),
          binding.issuer.subject.lookup,
        ),
      ];
    case 'email': {
      // The email lookup's rules (its own ASCII case fold), with only the folds configured.
      const policy = {
        ...binding.issuer.subject,
        lookup: 'email' as const,
        pattern: undefined,
        maxLength: MAX_EMAIL_LENGTH,
      };
      return [key(issuerSubject(member(subject, 'email'), policy, `${at}.email`), 'email')];
    }
    case 'phone_number':
    case 'account':
    case 'did':
    case 'uri':
      return [];
    case 'complex':
    case 'aliases':
      throw invalid(`${at}.format ${format} cannot be nested here`);
    default:
      throw invalid(`${at}.format must be a subject identifier format (iss_sub, email, opaque, …)`);
  }
}

/** A subject of the bound issuer, under its subject policy: canonical, configured folds only. */
function issuerSubject(raw: unknown, policy: IssuerConfig['subject'], at: string): string {
  try {
    return normaliseSubject(raw, { ...policy, claim: at });
  } catch (error) {
    if (!isResolutionError(error)) throw error;
    throw invalid(`${at}: not a subject the issuer's policy accepts: ${error.message}`);
  }
}

function opaqueId(raw: unknown, at: string): string {
  const o = object(raw, at);
  if (member(o, 'format') !== 'opaque') throw invalid(`${at}.format must be opaque`);
  const id = member(o, 'id');
  if (typeof id !== 'string' || id === '' || findNonCanonical(id))
    throw invalid(`${at}.id must be a non-empty canonical string`);
  return id;
}

function object(raw: unknown, at: string): object {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalid(`${at} must be a subject identifier object`);
  return raw;
}

function member(o: object, name: string): unknown {
  return Object.hasOwn(o, name) ? (o as Record<string, unknown>)[name] : undefined;
}

function invalid(description: string): SetError {
  return new SetError('invalid_request', description);
}
