import { isResolutionError } from '@resolver/reasons';
import {
  DEADLINE_GRANULARITY_MS,
  deadlineExceeded,
  processBehindSince,
  withDeadline,
} from './deadline';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers with the work when it settles first', async () => {
    await expect(withDeadline(Promise.resolve('done'), 100, () => new Error('late'))).resolves.toBe(
      'done',
    );
    await expect(
      withDeadline(Promise.reject(new Error('boom')), 100, () => new Error('late')),
    ).rejects.toThrow('boom');
  });

  it('rejects with the timeout reason when the work hangs', async () => {
    const hanging = new Promise<string>(() => undefined);
    const answer = withDeadline(hanging, 100, () => deadlineExceeded('store', 100));
    // The shared sweep checks every DEADLINE_GRANULARITY_MS: a deadline fires at most that late.
    jest.advanceTimersByTime(100 + DEADLINE_GRANULARITY_MS);
    const error = await answer.catch((e: unknown) => e);
    expect(isResolutionError(error) && error.reason).toBe('USER_STORE_UNAVAILABLE');
  });

  it('keeps every other deadline when entries settle or expire out of order', async () => {
    const settle: ((v: string) => void)[] = [];
    const work = () => new Promise<string>((r) => settle.push(r));
    // Dues 100..500 ms; the second and fourth settle early, two more share the first due.
    const answers = [100, 200, 300, 400, 500, 100, 100].map((ms, i) =>
      withDeadline(work(), ms, () => new Error(`late ${i}`)).catch((e: Error) => e.message),
    );
    settle[1]?.('two');
    settle[3]?.('four');
    await Promise.resolve();
    jest.advanceTimersByTime(100 + DEADLINE_GRANULARITY_MS);
    jest.advanceTimersByTime(200);
    // A late settle of an expired one changes nothing; the last one settles in time.
    settle[0]?.('too late');
    settle[4]?.('five');
    await Promise.resolve();
    jest.advanceTimersByTime(500);
    expect(await Promise.all(answers)).toEqual([
      'late 0',
      'two',
      'late 2',
      'four',
      'five',
      'late 5',
      'late 6',
    ]);
  });

  it('blames the dependency the resolution was waiting on', () => {
    expect(deadlineExceeded('keys', 1).reason).toBe('KEYS_UNAVAILABLE');
    expect(deadlineExceeded('store', 1).reason).toBe('USER_STORE_UNAVAILABLE');
    expect(deadlineExceeded('request', 1).reason).toBe('USER_STORE_UNAVAILABLE');
    // Time spent queued for a connection of a store that kept answering is overload.
    expect(deadlineExceeded('store', 1, 'queued').reason).toBe('USER_STORE_OVERLOADED');
    expect(deadlineExceeded('request', 1, 'behind').message).toContain('overloaded: ');
    expect(deadlineExceeded('keys', 1, 'queued').reason).toBe('KEYS_UNAVAILABLE');
    // Waiting on an introspection endpoint is its outage, whatever the load: never a 401.
    expect(deadlineExceeded('introspection', 1).reason).toBe('INTROSPECTION_UNAVAILABLE');
    expect(deadlineExceeded('introspection', 1, 'behind').reason).toBe('INTROSPECTION_UNAVAILABLE');
  });
});

describe('processBehindSince (real timers)', () => {
  it('says the process ran behind only after a deadline check came late', async () => {
    const since = Date.now();
    const pending = withDeadline(new Promise<void>(() => undefined), 2_000, () => new Error('x'));
    pending.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 4 * DEADLINE_GRANULARITY_MS));
    expect(processBehindSince(since)).toBeUndefined();
    // The event loop blocked for 300 ms: the next check runs that late.
    const blockedUntil = Date.now() + 300;
    while (Date.now() < blockedUntil);
    await new Promise((r) => setTimeout(r, 2 * DEADLINE_GRANULARITY_MS));
    expect(processBehindSince(since)).toContain('behind');
    expect(processBehindSince(Date.now() + 1)).toBeUndefined();
  });
});
