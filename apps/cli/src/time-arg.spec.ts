import { joinNegativeTimes, parseTimeArg } from './time-arg';

describe('time arguments', () => {
  const now = 1_800_000_000;

  it('reads relative times, past and future', () => {
    expect(parseTimeArg('+1h', now)).toBe(now + 3600);
    expect(parseTimeArg('30s', now)).toBe(now + 30);
    expect(parseTimeArg('-5m', now)).toBe(now - 300);
    expect(parseTimeArg('+2d', now)).toBe(now + 172_800);
  });

  it('reads ISO 8601 date-times with a zone, and Unix seconds', () => {
    expect(parseTimeArg('2027-01-01T00:00:00Z', now)).toBe(1_798_761_600);
    expect(parseTimeArg('2027-01-01T01:00:00+01:00', now)).toBe(1_798_761_600);
    expect(parseTimeArg('1798761600', now)).toBe(1_798_761_600);
  });

  it('refuses what it cannot read unambiguously', () => {
    for (const bad of ['soon', '2027-01-01', '2027-01-01T00:00:00', '5x', '', '+h', '12'])
      expect(parseTimeArg(bad, now)).toBeUndefined();
  });

  it('keeps a negative relative time as the value of its option', () => {
    expect(joinNegativeTimes(['--exp', '-5m', '--sub', 'a'], ['--exp'])).toEqual([
      '--exp=-5m',
      '--sub',
      'a',
    ]);
    expect(joinNegativeTimes(['--exp', '+5m', '-x'], ['--exp'])).toEqual(['--exp', '+5m', '-x']);
    expect(joinNegativeTimes(['--sub', '-5m'], ['--exp'])).toEqual(['--sub', '-5m']);
  });
});
