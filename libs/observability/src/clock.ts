/**
 * Time source for every time-based decision (token `exp`/`nbf`, cache TTLs). Injected so tests
 * can freeze it instead of sleeping.
 */
export abstract class Clock {
  abstract now(): Date;
  /** The same instant in epoch milliseconds, without allocating a Date (hot path). */
  nowMs(): number {
    return this.now().getTime();
  }
}

/** The wall clock. */
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
  override nowMs(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to (tests, diagnosis "as of" a time). */
export class FixedClock extends Clock {
  constructor(private current: Date) {
    super();
  }
  now(): Date {
    return new Date(this.current.getTime());
  }
  set(date: Date): void {
    this.current = date;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
