import { humanTime, numericDate, relativeTime } from './human-time';

describe('human-readable times', () => {
  const now = new Date('2025-01-01T12:00:00Z');
  const at = (s: number) => new Date(now.getTime() + s * 1000);

  it('says how far away an instant is, in the largest whole unit', () => {
    expect(relativeTime(at(0), now)).toBe('now');
    expect(relativeTime(at(1), now)).toBe('in 1 second');
    expect(relativeTime(at(-59), now)).toBe('59 seconds ago');
    expect(relativeTime(at(-3600), now)).toBe('1 hour ago');
    expect(relativeTime(at(3 * 86_400 + 5), now)).toBe('in 3 days');
    expect(relativeTime(at(-125), now)).toBe('2 minutes ago');
  });

  it('pairs ISO 8601 with the relative distance', () => {
    expect(humanTime(at(-90), now)).toBe('2025-01-01T11:58:30.000Z (1 minute ago)');
  });

  it('reads only finite numbers as NumericDate', () => {
    expect(numericDate(1_700_000_000)?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
    expect(numericDate('1700000000')).toBeUndefined();
    expect(numericDate(Number.NaN)).toBeUndefined();
  });
});
