import { buildConfig } from '@resolver/config';
import type { LookupKey, UserRecord } from '@resolver/identity';
import { FixedClock, ResolverMetrics } from '@resolver/observability';
import type { CachedToken } from './subject-caches';
import { SubjectCaches, userCacheKey } from './subject-caches';

function caches(cache: Record<string, unknown>) {
  const config = buildConfig({ cache }, {}, { source: 'test.yaml', baseDir: '/' });
  const c = new SubjectCaches(config, new FixedClock(new Date(0)), new ResolverMetrics([]));
  c.markCoherent([]);
  return c;
}

const key = (subject: string): LookupKey => ({
  issuer: 'https://idp',
  tenant: '',
  subject,
  strategy: 'external',
  kind: 'user',
});
const user = (id: string) => ({ id, kind: 'user' }) as UserRecord;
const token = (subject: string) => ({ issuer: 'https://idp', key: key(subject) }) as CachedToken;

describe('SubjectCaches', () => {
  it('with the user cache off, storing users never drops verified tokens', () => {
    const c = caches({ users: { maxEntries: 0 } });
    c.putToken('t1', token('a'));
    for (let i = 0; i < 10; i++) c.putUser(userCacheKey(key(`s${i}`)), user(`u${i}`));
    expect(c.getToken('t1')).toBeDefined();
    expect(c.sizes()).toMatchObject({ tokens: 1, users: 0 });
  });

  it('when the id index outgrows twice the user bound, only the user cache starts over', () => {
    const c = caches({ users: { maxEntries: 2 } });
    c.putToken('t1', token('a'));
    for (let i = 0; i < 6; i++) c.putUser(userCacheKey(key(`s${i}`)), user(`u${i}`));
    expect(c.getToken('t1')).toBeDefined();
    expect(c.sizes().users).toBeLessThanOrEqual(2);
  });
});
