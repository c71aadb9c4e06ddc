import {
  type SsfPollOutcome,
  type SsfStreamIdentity,
  type SsfStreamRecord,
  SsfStreamRepository,
} from './ssf-stream-repository';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** {@link SsfStreamRepository} in memory. */
export class InMemorySsfStreamRepository extends SsfStreamRepository {
  private readonly rows = new Map<string, Mutable<SsfStreamRecord>>();
  /** Set to make every call fail as an unreachable store would. */
  failing = false;

  private row(transmitter: string): Mutable<SsfStreamRecord> {
    if (this.failing) throw new Error('store unavailable');
    let row = this.rows.get(transmitter);
    if (!row) {
      row = { transmitter, eventsDelivered: [], updatedAt: new Date() };
      this.rows.set(transmitter, row);
    }
    return row;
  }

  get(transmitter: string): Promise<SsfStreamRecord | undefined> {
    if (this.failing) return Promise.reject(new Error('store unavailable'));
    const row = this.rows.get(transmitter);
    return Promise.resolve(row && { ...row });
  }

  list(): Promise<SsfStreamRecord[]> {
    return Promise.resolve([...this.rows.values()].map((r) => ({ ...r })));
  }

  saveStream(transmitter: string, s: SsfStreamIdentity, now: Date): Promise<void> {
    Object.assign(this.row(transmitter), {
      ...s,
      eventsDelivered: [...s.eventsDelivered],
      updatedAt: now,
    });
    return Promise.resolve();
  }

  recordVerificationRequest(transmitter: string, state: string, at: Date): Promise<void> {
    Object.assign(this.row(transmitter), { verificationState: state, verificationRequestedAt: at });
    return Promise.resolve();
  }

  recordPoll(transmitter: string, o: SsfPollOutcome): Promise<void> {
    const row = this.row(transmitter);
    row.lastPollAt = o.at;
    if (o.ok) {
      row.lastPollOkAt = o.at;
      row.lastError = undefined;
      if (o.eventAt) row.lastEventAt = o.eventAt;
    } else row.lastError = o.error ?? 'failed';
    return Promise.resolve();
  }
}
