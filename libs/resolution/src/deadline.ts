import { ResolutionError } from '@resolver/reasons';

/** Which dependency a resolution was waiting on when its deadline passed. */
export type Phase = 'request' | 'keys' | 'store';

/** The reason a resolution that ran out of time is answered with: the dependency it waited on. */
export function deadlineExceeded(phase: Phase, timeoutMs: number): ResolutionError {
  return phase === 'keys'
    ? new ResolutionError('KEYS_UNAVAILABLE', `signing keys not available within ${timeoutMs} ms`)
    : new ResolutionError(
        'USER_STORE_UNAVAILABLE',
        `user store did not answer within ${timeoutMs} ms`,
      );
}

/**
 * Settles with `work`, or rejects with `onTimeout()` after `timeoutMs`, whichever comes first.
 * The late work is abandoned, not cancelled: its own bounds (statement timeout, fetch timeout)
 * end it, and its rejection is already observed by the race.
 */
export async function withDeadline<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
