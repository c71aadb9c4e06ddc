import { MAX_TIME_SECONDS, MIN_TIME_SECONDS } from '@resolver/tokens';

/** "3 minutes ago", "in 2 hours": a rough, human distance between two instants. */
export function relativeTime(at: Date, now: Date): string {
  const deltaS = Math.round((at.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(deltaS);
  if (abs < 1) return 'now';
  const units: [number, string][] = [
    [86_400, 'day'],
    [3_600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  const [size, name] = units.find(([s]) => abs >= s) ?? [1, 'second'];
  const n = Math.floor(abs / size);
  const text = `${n} ${name}${n === 1 ? '' : 's'}`;
  return deltaS < 0 ? `${text} ago` : `in ${text}`;
}

/** An instant as ISO 8601 plus its distance from now. */
export function humanTime(at: Date, now: Date): string {
  return `${at.toISOString()} (${relativeTime(at, now)})`;
}

/**
 * A NumericDate claim (seconds since the epoch) as a Date, or undefined if it is not one — also
 * for a finite number no date can hold (`1e308`), which verification refuses as CLAIM_INVALID.
 */
export function numericDate(value: unknown): Date | undefined {
  return typeof value === 'number' && value >= MIN_TIME_SECONDS && value <= MAX_TIME_SECONDS
    ? new Date(value * 1000)
    : undefined;
}
