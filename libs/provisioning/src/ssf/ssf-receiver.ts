import type {
  IssuerConfig,
  SsfAction,
  SsfConfig,
  SsfEventName,
  SsfTransmitterConfig,
} from '@resolver/config';
import {
  type SignalTransactions,
  StoreRefusal,
  type StreamStatus,
  type TransmitterStateRepository,
  type UserRecord,
} from '@resolver/identity';
import type { Clock, ResolverLogger, ResolverMetrics } from '@resolver/observability';
import {
  isSetError,
  type KeySource,
  SetError,
  type SetErrorCode,
  SetVerifier,
  type VerifiedSet,
} from '@resolver/tokens';
import { type ActionOutcome, applyUserEvent } from './ssf-actions';
import { mapSubject, type MappedSubject, type SubjectBinding } from './ssf-subject';

/** What happened to an accepted SET (acknowledged: 202, or acknowledged in a poll). */
export type SsfOutcome = ActionOutcome | 'unmatched' | 'unknown_event' | 'duplicate';
export const SSF_OUTCOMES: readonly SsfOutcome[] = [
  'applied',
  'recorded',
  'stale',
  'ignored',
  'unmatched',
  'unknown_event',
  'duplicate',
];

/** The answer to one SET: acknowledged with its outcome, or refused (RFC 8935 §2.3). */
export type SsfReceipt =
  | {
      readonly ok: true;
      readonly outcome: SsfOutcome;
      readonly jti: string;
      /** The event type's short name, or `unknown`. */
      readonly event: string;
      readonly userId?: string;
    }
  | { readonly ok: false; readonly err: SetErrorCode; readonly description: string };

/** How the receiver reaches its transmitters' keys (one source per transmitter). */
export type TransmitterKeys = (transmitter: SsfTransmitterConfig) => KeySource;

/** Whoever wants to know that a stream reported its status (the stream management). */
export type StreamObserver = (
  transmitter: string,
  status: StreamStatus,
  reason: string | null,
) => void;

/**
 * The Shared Signals receiver: what push (RFC 8935) and poll (RFC 8936) both call with one SET.
 * It verifies the SET with the transmitter's policy and keys, claims its `jti` (a replay is
 * acknowledged and not applied again, on any replica), maps its subject to a user of the issuer
 * and tenant the transmitter is bound to, and applies the configured action in one transaction
 * (see `applyUserEvent`). One metric update and one log line per SET (never its body), and one
 * audit line per change (`actor: ssf:<transmitter>`).
 *
 * A refusal is returned, not thrown; a store or key source that cannot answer throws its
 * unavailable reason (the push answers 503, the poller does not acknowledge): the transmitter
 * tries again and nothing is lost.
 */
export class SsfReceiver {
  private readonly transmitters = new Map<string, Receiving>();

  constructor(
    config: SsfConfig,
    issuers: readonly IssuerConfig[],
    keys: TransmitterKeys,
    private readonly transactions: SignalTransactions,
    private readonly states: TransmitterStateRepository,
    private readonly clock: Clock,
    private readonly log: ResolverLogger,
    private readonly metrics: ResolverMetrics,
  ) {
    for (const t of config.transmitters) {
      const issuer = issuers.find((i) => i.issuer === t.resolver.issuer);
      // The config schema refuses a transmitter bound to an issuer that is not configured.
      if (!issuer) throw new Error(`ssf transmitter ${t.name}: no issuer ${t.resolver.issuer}`);
      const verifier = new SetVerifier(
        {
          ...t,
          maxSetBytes: config.maxSetBytes,
          clockToleranceSeconds: config.clockToleranceSeconds,
          maxEventAgeSeconds: config.maxEventAgeSeconds,
        },
        keys(t),
        clock,
      );
      this.transmitters.set(t.name, {
        config: t,
        issuer,
        verifier,
        binding: { issuer, tenant: t.resolver.tenant ?? '' },
      });
      for (const event of [...Object.keys(t.actions), 'unknown'])
        for (const result of [...SSF_OUTCOMES, 'unavailable'])
          this.metrics.ssfEvents.labels(t.name, event, result).inc(0);
    }
  }

  private readonly streamObservers: StreamObserver[] = [];
  private readonly userObservers: ((userId: string) => void)[] = [];

  /**
   * Called with the user an event changed, once its transaction committed: the replica that
   * received the event drops its cached answers at once (the others on the change notification).
   */
  onUserChanged(observer: (userId: string) => void): void {
    this.userObservers.push(observer);
  }

  /** Called with every `stream-updated` event's status (the stream management listens). */
  onStreamStatus(observer: StreamObserver): void {
    this.streamObservers.push(observer);
  }

  /** The transmitters' names, in config order. */
  names(): string[] {
    return [...this.transmitters.keys()];
  }

  async receive(transmitterName: string, compact: string): Promise<SsfReceipt> {
    const t = this.transmitters.get(transmitterName);
    if (!t) return { ok: false, err: 'invalid_request', description: 'unknown transmitter' };
    let set: VerifiedSet | undefined;
    try {
      set = await t.verifier.verify(compact);
      const receipt = await this.process(t, set);
      this.count(t, set, receipt.outcome);
      this.log.logSignal({
        transmitter: t.config.name,
        event: receipt.event,
        result: receipt.outcome,
        jti: set.jti,
        userId: receipt.userId,
        subjects: receipt.subjects,
      });
      // The stream's liveness: any valid SET, a replay included (the transmitter is talking).
      await this.states.touch(t.config.name, this.clock.now(), set.jti);
      const { subjects: _, ...answer } = receipt;
      return { ok: true, jti: set.jti, ...answer };
    } catch (error) {
      if (!isSetError(error)) {
        this.count(t, set, 'unavailable');
        throw error;
      }
      this.count(t, set, error.code);
      this.log.logSignal({
        transmitter: t.config.name,
        event: set?.eventName ?? 'unknown',
        result: error.code,
        jti: set?.jti,
        description: error.description,
      });
      return { ok: false, err: error.code, description: error.description };
    }
  }

  private count(t: Receiving, set: VerifiedSet | undefined, result: string): void {
    this.metrics.ssfEvents.labels(t.config.name, set?.eventName ?? 'unknown', result).inc();
  }

  private async process(
    t: Receiving,
    set: VerifiedSet,
  ): Promise<{ outcome: SsfOutcome; event: string; userId?: string; subjects?: string[] }> {
    const name = set.eventName;
    if (name === undefined) {
      // Acknowledged and counted; never an error that makes a transmitter retry forever.
      const fresh = await this.transactions.run((tables) =>
        tables.receivedSets.claim(t.config.name, set.jti),
      );
      return { outcome: fresh ? 'unknown_event' : 'duplicate', event: 'unknown' };
    }
    const action = t.config.actions[name];
    if (name === 'verification' || name === 'stream-updated')
      return { outcome: await this.streamEvent(t, set, name, action), event: name };
    // Mapped before the transaction: a foreign or malformed subject changes nothing.
    const mapped = mapSubject(set.subject, t.binding);
    const subjects = mapped.keys.map((k) => `${k.strategy}:${k.subject}`);
    const result = await this.inTransaction(t, set, name, action, mapped);
    if (result.outcome === 'applied' && result.userId) {
      for (const observe of this.userObservers) observe(result.userId);
      this.log.logAdminChange({
        actor: `ssf:${t.config.name}`,
        action: `ssf.${action}`,
        userId: result.userId,
        detail: { event: name, jti: set.jti, eventAt: new Date(set.eventAtMs).toISOString() },
      });
    }
    return { ...result, event: name, subjects };
  }

  private async inTransaction(
    t: Receiving,
    set: VerifiedSet,
    name: SsfEventName,
    action: SsfAction,
    mapped: MappedSubject,
  ): Promise<{ outcome: SsfOutcome; userId?: string }> {
    try {
      return await this.transactions.run(async (tables) => {
        if (!(await tables.receivedSets.claim(t.config.name, set.jti)))
          return { outcome: 'duplicate' };
        if (action === 'none') return { outcome: 'ignored' };
        const found = new Map<string, { user: UserRecord; key: (typeof mapped.keys)[number] }>();
        for (const key of mapped.keys) {
          const user = await tables.users.findByKey(key);
          if (user && !found.has(user.id)) found.set(user.id, { user, key });
        }
        if (found.size === 0) return { outcome: 'unmatched' };
        if (found.size > 1)
          throw new SetError('invalid_request', 'sub_id: the identifiers name different users');
        const [{ user: seen, key }] = [...found.values()] as [
          { user: UserRecord; key: (typeof mapped.keys)[number] },
        ];
        // Row-locked: two events for one user (on two replicas) apply one after the other.
        const user = (await tables.users.findById(seen.id, { lock: true })) ?? seen;
        const outcome = await applyUserEvent(tables, user, {
          action,
          key,
          sessionId: mapped.sessionId,
          event: set.event,
          issuer: t.issuer,
          mark: { at: set.eventAtMs, transmitter: t.config.name, event: name, jti: set.jti },
        });
        return { outcome, userId: user.id };
      });
    } catch (error) {
      // A write the store refuses (an identifier another user holds): the event cannot apply.
      if (error instanceof StoreRefusal)
        throw new SetError('invalid_request', `the event cannot be applied: ${error.message}`);
      throw error;
    }
  }

  private async streamEvent(
    t: Receiving,
    set: VerifiedSet,
    name: 'verification' | 'stream-updated',
    action: SsfAction,
  ): Promise<SsfOutcome> {
    const fresh = await this.transactions.run((tables) =>
      tables.receivedSets.claim(t.config.name, set.jti),
    );
    if (!fresh) return 'duplicate';
    if (action === 'none') return 'ignored';
    const at = new Date(set.eventAtMs);
    if (name === 'verification') {
      const state = set.event.state;
      await this.states.recordVerification(
        t.config.name,
        typeof state === 'string' ? state.slice(0, 256) : null,
        at,
      );
      return 'recorded';
    }
    const status = set.event.status;
    if (status !== 'enabled' && status !== 'paused' && status !== 'disabled')
      throw new SetError(
        'invalid_request',
        'event member "status" must be enabled, paused or disabled',
      );
    const reason = typeof set.event.reason === 'string' ? set.event.reason.slice(0, 256) : null;
    await this.states.recordStatus(t.config.name, status, reason, at);
    for (const observe of this.streamObservers) observe(t.config.name, status, reason);
    return 'recorded';
  }
}

interface Receiving {
  readonly config: SsfTransmitterConfig;
  readonly issuer: IssuerConfig;
  readonly verifier: SetVerifier;
  readonly binding: SubjectBinding;
}
