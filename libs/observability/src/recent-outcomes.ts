import { type Outcome, REASON_CODES, REASON_TABLE, type ReasonCode } from '@resolver/reasons';

/** One time bucket of {@link RecentOutcomes}: answers counted while it was the newest. */
export interface OutcomeBucket {
  /** Start of the bucket (RFC 3339). */
  readonly start: string;
  readonly resolved: number;
  /** Non-zero counts only, by reason code. */
  readonly byReason: Readonly<Partial<Record<ReasonCode, number>>>;
}

/** What the operator console charts: every bucket of the window, oldest first. */
export interface RecentOutcomesSnapshot {
  readonly bucketSeconds: number;
  readonly windowSeconds: number;
  /** Reasons seen anywhere in the window, with their outcome (refused or unavailable). */
  readonly reasons: readonly { readonly reason: ReasonCode; readonly outcome: Outcome }[];
  readonly buckets: readonly OutcomeBucket[];
}

/** The slot of a resolved answer; reason `i` of REASON_CODES is slot `i + 1`. */
const RESOLVED_SLOT = 0;
const SLOT_OF = new Map<ReasonCode, number>(REASON_CODES.map((r, i) => [r, i + 1]));

/**
 * A short in-process ring buffer of answers by reason over the last minutes (default 15 minutes
 * in 10 s buckets): what the operator console's overview charts without a Prometheus. Fixed
 * size whatever the traffic; counting is an array increment (it sits on the resolution path).
 * Buckets that saw no answers are cleared lazily when time reaches them again.
 */
export class RecentOutcomes {
  private readonly width = REASON_CODES.length + 1;
  private readonly counts: Float64Array;
  private readonly bucketMs: number;
  /** Absolute bucket number (epoch ms / bucketMs) of the newest bucket; -1 before the first. */
  private newest = -1;

  constructor(
    readonly bucketSeconds = 10,
    readonly bucketCount = 90,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = bucketSeconds * 1000;
    this.counts = new Float64Array(bucketCount * this.width);
  }

  /** The slot {@link add} takes for an answer: success when `reason` is undefined. */
  static slotOf(reason: ReasonCode | undefined): number {
    return reason === undefined ? RESOLVED_SLOT : (SLOT_OF.get(reason) as number);
  }

  /** Counts one answer in the current bucket. */
  add(slot: number): void {
    const bucket = this.advance();
    const i = this.base(bucket) + slot;
    this.counts[i] = (this.counts[i] as number) + 1;
  }

  /** The whole window, oldest bucket first, empty buckets included. */
  snapshot(): RecentOutcomesSnapshot {
    const newest = this.advance();
    const seen = new Set<ReasonCode>();
    const buckets: OutcomeBucket[] = [];
    for (let b = newest - this.bucketCount + 1; b <= newest; b++) {
      const base = this.base(b);
      const byReason: Partial<Record<ReasonCode, number>> = {};
      REASON_CODES.forEach((reason, i) => {
        const n = this.counts[base + i + 1] as number;
        if (n > 0) {
          byReason[reason] = n;
          seen.add(reason);
        }
      });
      buckets.push({
        start: new Date(b * this.bucketMs).toISOString(),
        resolved: this.counts[base + RESOLVED_SLOT] as number,
        byReason,
      });
    }
    return {
      bucketSeconds: this.bucketSeconds,
      windowSeconds: this.bucketSeconds * this.bucketCount,
      reasons: REASON_CODES.filter((r) => seen.has(r)).map((reason) => ({
        reason,
        outcome: REASON_TABLE[reason].outcome,
      })),
      buckets,
    };
  }

  /** Offset of absolute bucket `b` in {@link counts}. */
  private base(b: number): number {
    return (((b % this.bucketCount) + this.bucketCount) % this.bucketCount) * this.width;
  }

  /**
   * Moves the newest bucket up to now, zeroing the buckets skipped over (at most the whole
   * ring). A clock that steps back keeps counting into the newest bucket rather than into one
   * the window has already passed.
   */
  private advance(): number {
    const current = Math.floor(this.now() / this.bucketMs);
    if (current <= this.newest) return this.newest;
    const from = this.newest < 0 ? current - this.bucketCount + 1 : this.newest + 1;
    for (let b = Math.max(from, current - this.bucketCount + 1); b <= current; b++) {
      const base = this.base(b);
      this.counts.fill(0, base, base + this.width);
    }
    this.newest = current;
    return current;
  }
}
