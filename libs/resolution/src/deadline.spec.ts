import { isResolutionError } from '@resolver/reasons';
import { DEADLINE_GRANULARITY_MS, deadlineExceeded, withDeadline } from './deadline';

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

  it('blames the dependency the resolution was waiting on', () => {
    expect(deadlineExceeded('keys', 1).reason).toBe('KEYS_UNAVAILABLE');
    expect(deadlineExceeded('store', 1).reason).toBe('USER_STORE_UNAVAILABLE');
    expect(deadlineExceeded('request', 1).reason).toBe('USER_STORE_UNAVAILABLE');
  });
});
