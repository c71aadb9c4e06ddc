import { ResolverMetrics, TOKEN_FORMAT_LABELS } from './resolver-metrics';

describe('answers counted by token format', () => {
  it('every format and outcome exists at zero from boot, and one answer counts once', async () => {
    const metrics = new ResolverMetrics(['https://idp.test']);
    const before = await metrics.formats.get();
    expect(before.values).toHaveLength(TOKEN_FORMAT_LABELS.length * 3);
    expect(before.values.every((v) => v.value === 0)).toBe(true);
    metrics.recordFormat('jwe', undefined);
    metrics.recordFormat('paseto', 'TOKEN_EXPIRED');
    metrics.recordFormat('paseto', 'TOKEN_EXPIRED');
    metrics.recordFormat('none', 'KEYS_UNAVAILABLE');
    const after = await metrics.formats.get();
    const count = (format: string, outcome: string) =>
      after.values.find((v) => v.labels.format === format && v.labels.outcome === outcome)?.value;
    expect(count('jwe', 'resolved')).toBe(1);
    expect(count('paseto', 'refused')).toBe(2);
    expect(count('none', 'unavailable')).toBe(1);
    expect(count('jws', 'resolved')).toBe(0);
  });
});
