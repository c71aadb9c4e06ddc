import type { JWK } from 'jose';
import type { Algorithm, SsfEventName } from '@resolver/config';
import { SSF_EVENT_URIS } from '@resolver/config';
import type { Clock } from '@resolver/observability';
import { isResolutionError } from '@resolver/reasons';
import { decodeCompactToken, own } from '../compact-token';
import type { KeySource } from '../key-source';
import { selectKeys } from '../key-selection';
import { keyFits, keyObjectFor, SIGNATURE_SCHEMES, verifySignature } from '../signature';
import { SetError } from './set-error';

/** What a transmitter's SETs must satisfy. */
export interface SetPolicy {
  /** The transmitter's issuer: the exact `iss`. */
  readonly issuer: string;
  /** The audience the receiver expects among `aud`. */
  readonly audience: string;
  readonly algorithms: readonly Algorithm[];
  readonly maxSetBytes: number;
  /** An `iat` later than now by more than this is refused. */
  readonly clockToleranceSeconds: number;
  /** An `iat` older than this is refused. */
  readonly maxEventAgeSeconds: number;
}

/** A verified SET: its one event, as own-property data with no prototype. */
export interface VerifiedSet {
  readonly jti: string;
  /** `iat`, epoch ms. */
  readonly issuedAtMs: number;
  /** The event type URI, as sent. */
  readonly eventType: string;
  /** Its short name, when the type is one this receiver knows. */
  readonly eventName?: SsfEventName;
  /** The event's members (null prototype). */
  readonly event: Readonly<Record<string, unknown>>;
  /** The subject: the SET's `sub_id` (SSF 1.0), else the event's `subject` (earlier drafts). */
  readonly subject: unknown;
  /** `event_timestamp` (epoch ms) when the event has one, else `iat`. */
  readonly eventAtMs: number;
  /** `txn`, when present. */
  readonly txn?: string;
}

const EVENT_NAMES = new Map<string, SsfEventName>(
  Object.entries(SSF_EVENT_URIS).map(([name, uri]) => [uri, name as SsfEventName]),
);
const MAX_JTI_LENGTH = 256;
const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * Verifies a Security Event Token (RFC 8417, SSF 1.0 §4) of one transmitter before anything is
 * done with it: bounded size; a plain JWS (the compact-token rules issuers' tokens follow: no
 * JWE, no `crit`, no duplicate members, bounded depth); `typ` `secevent+jwt`; an allowed
 * algorithm (never `none`); a signature by a key of the transmitter's key source (the same
 * machinery as issuers': stale-while-revalidate, bounded refetch on an unknown `kid`; never a
 * key from the SET's own headers); `iss`, `aud`; `iat` neither in the future nor older than the
 * horizon; a `jti`; exactly one event. Members are read as own properties only.
 *
 * Throws a {@link SetError} for a refusal; `KEYS_UNAVAILABLE` (a ResolutionError) when the
 * transmitter's keys cannot be had, which is not the SET's fault (the push answers 503).
 */
export class SetVerifier {
  constructor(
    private readonly policy: SetPolicy,
    private readonly keys: KeySource,
    private readonly clock: Clock,
  ) {}

  async verify(compact: string): Promise<VerifiedSet> {
    const { header, payload, signingInput, signature } = this.decode(compact);
    const typ = own(header, 'typ');
    if (typeof typ !== 'string' || !/^(application\/)?secevent\+jwt$/i.test(typ))
      throw new SetError('invalid_request', 'header "typ" must be secevent+jwt');
    const alg = own(header, 'alg') as string;
    if (!(this.policy.algorithms as readonly string[]).includes(alg))
      throw new SetError(
        'invalid_request',
        `header "alg" ${JSON.stringify(alg.slice(0, 16))} is not allowed for this transmitter`,
      );
    const kid = own(header, 'kid');
    if (kid !== undefined && typeof kid !== 'string')
      throw new SetError('invalid_request', 'header "kid" must be a string');
    await this.checkSignature(alg as Algorithm, kid, signingInput, signature);

    if (own(payload, 'iss') !== this.policy.issuer)
      throw new SetError('invalid_issuer', 'claim "iss" is not the transmitter\'s issuer');
    const aud = own(payload, 'aud');
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(this.policy.audience))
      throw new SetError('invalid_audience', 'claim "aud" does not name this receiver');
    const issuedAtMs = this.checkIat(own(payload, 'iat'));
    const exp = own(payload, 'exp');
    if (exp !== undefined && (typeof exp !== 'number' || exp * 1000 <= this.clock.nowMs()))
      throw new SetError('invalid_request', 'claim "exp" is not a future NumericDate');
    const jti = own(payload, 'jti');
    if (typeof jti !== 'string' || jti.length > MAX_JTI_LENGTH || !PRINTABLE.test(jti))
      throw new SetError(
        'invalid_request',
        `claim "jti" must be 1-${MAX_JTI_LENGTH} printable ASCII characters`,
      );
    const { eventType, event } = this.oneEvent(own(payload, 'events'));
    const txn = own(payload, 'txn');
    return {
      jti,
      issuedAtMs,
      eventType,
      eventName: EVENT_NAMES.get(eventType),
      event,
      subject: own(payload, 'sub_id') ?? own(event, 'subject'),
      eventAtMs: this.eventTime(own(event, 'event_timestamp'), issuedAtMs),
      ...(typeof txn === 'string' && { txn }),
    };
  }

  private decode(compact: string) {
    if (compact.length > this.policy.maxSetBytes)
      throw new SetError('invalid_request', `the SET exceeds ${this.policy.maxSetBytes} bytes`);
    try {
      const decoded = decodeCompactToken(compact, this.policy.maxSetBytes);
      const [h, p, s] = compact.split('.') as [string, string, string];
      return {
        header: decoded.header,
        payload: decoded.payload,
        signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
        signature: Buffer.from(s, 'base64url'),
      };
    } catch (error) {
      if (!isResolutionError(error)) throw error;
      throw new SetError('invalid_request', `not a signed JWT: ${error.message}`);
    }
  }

  private async checkSignature(
    alg: Algorithm,
    kid: string | undefined,
    signingInput: Buffer,
    signature: Buffer,
  ): Promise<void> {
    // KEYS_UNAVAILABLE passes through: the transmitter should retry, not drop the event.
    const held: readonly JWK[] = await this.keys.keysFor(kid);
    const scheme = SIGNATURE_SCHEMES[alg];
    const candidates = selectKeys(held, alg, kid);
    if (candidates.length === 0)
      throw new SetError(
        'invalid_key',
        'no key of the transmitter fits the SET\'s "kid" and "alg"',
      );
    for (const jwk of candidates) {
      const key = keyObjectFor(jwk);
      if (key && keyFits(scheme, key) && verifySignature(scheme, key, signingInput, signature))
        return;
    }
    throw new SetError('invalid_key', "the signature does not verify with the transmitter's keys");
  }

  private checkIat(iat: unknown): number {
    if (typeof iat !== 'number' || !Number.isFinite(iat))
      throw new SetError('invalid_request', 'claim "iat" must be a NumericDate');
    const ms = iat * 1000;
    const now = this.clock.nowMs();
    if (ms > now + this.policy.clockToleranceSeconds * 1000)
      throw new SetError('invalid_request', 'claim "iat" is in the future');
    if (ms < now - this.policy.maxEventAgeSeconds * 1000)
      throw new SetError(
        'invalid_request',
        `claim "iat" is older than ${this.policy.maxEventAgeSeconds} seconds`,
      );
    return ms;
  }

  /** `event_timestamp`, bounded like `iat`: never later than now (a future sign-out). */
  private eventTime(value: unknown, issuedAtMs: number): number {
    if (value === undefined) return issuedAtMs;
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new SetError('invalid_request', 'event member "event_timestamp" must be a NumericDate');
    const ms = value * 1000;
    if (ms > this.clock.nowMs() + this.policy.clockToleranceSeconds * 1000)
      throw new SetError('invalid_request', 'event member "event_timestamp" is in the future');
    return ms;
  }

  private oneEvent(events: unknown): { eventType: string; event: Record<string, unknown> } {
    if (typeof events !== 'object' || events === null || Array.isArray(events))
      throw new SetError('invalid_request', 'claim "events" must be an object');
    const types = Object.keys(events);
    if (types.length !== 1)
      throw new SetError(
        'invalid_request',
        `claim "events" must hold exactly one event, not ${types.length}`,
      );
    const eventType = types[0] as string;
    const event = (events as Record<string, unknown>)[eventType];
    if (typeof event !== 'object' || event === null || Array.isArray(event))
      throw new SetError('invalid_request', 'the event in "events" must be an object');
    return { eventType, event: event as Record<string, unknown> };
  }
}
