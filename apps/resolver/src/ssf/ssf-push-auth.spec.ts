import { createHash } from 'node:crypto';
import type { SsfTransmitterConfig } from '@resolver/config';
import { isSetError } from '@resolver/tokens';
import { authenticatePush } from './ssf-push-auth';

const hash = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const transmitter = (name: string, token?: string) =>
  ({
    name,
    delivery: token === undefined ? { poll: {} } : { push: { tokenSha256: hash(token) } },
  }) as unknown as SsfTransmitterConfig;
const all = [
  transmitter('okta', 'okta-credential-0123456789abcdef'),
  transmitter('kc', 'kc-credential-0123456789abcdef'),
  transmitter('poll-only'),
];
const refused = (name: string | undefined, authorization: string | undefined) => {
  try {
    authenticatePush(all, name, authorization);
  } catch (error) {
    return isSetError(error) ? error.code : 'other';
  }
  return 'accepted';
};

describe('authenticatePush', () => {
  it("accepts the transmitter's own bearer credential (scheme case-insensitive)", () => {
    expect(authenticatePush(all, 'okta', 'Bearer okta-credential-0123456789abcdef').name).toBe(
      'okta',
    );
    expect(refused('kc', 'bearer kc-credential-0123456789abcdef')).toBe('accepted');
  });

  it.each([
    ['okta', undefined],
    ['okta', ''],
    ['okta', 'Bearer'],
    ['okta', 'Bearer wrong'],
    ['okta', 'Basic okta-credential-0123456789abcdef'],
    ['okta', 'Bearer kc-credential-0123456789abcdef'],
    ['okta', 'Bearer okta-credential-0123456789abcdef extra'],
    ['nobody', 'Bearer okta-credential-0123456789abcdef'],
    [undefined, 'Bearer okta-credential-0123456789abcdef'],
    ['poll-only', 'Bearer okta-credential-0123456789abcdef'],
    ['__proto__', 'Bearer okta-credential-0123456789abcdef'],
  ])('refuses %s with %j as authentication_failed', (name, authorization) => {
    expect(refused(name, authorization)).toBe('authentication_failed');
  });
});
