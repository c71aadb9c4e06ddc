import { createHash } from 'node:crypto';
import type { ScimClientConfig } from '@resolver/config';
import { rolesFor } from './scim-groups';
import { authenticateClient, subjectFor } from './scim-client';
import { checkIfMatch } from './scim-users';
import { ScimError } from './scim-error';

const client = (
  id: string,
  token: string,
  groupRoles: Record<string, string[]> = {},
): ScimClientConfig => ({
  id,
  tokenSha256: new Uint8Array(createHash('sha256').update(token).digest()),
  issuer: `https://${id}`,
  tenant: '',
  subjectAttribute: 'externalId',
  groupRoles,
  subject: {
    claim: 'sub',
    lookup: 'external',
    normalize: { trim: true, nfc: true, lowercase: false },
    maxLength: 10,
  },
});

describe('SCIM client credentials and mappings', () => {
  const clients = [client('okta', 'okta-credential'), client('entra', 'entra-credential')];
  it('finds the client whose hashed credential matches', () => {
    expect(authenticateClient(clients, 'Bearer entra-credential').id).toBe('entra');
    expect(authenticateClient(clients, 'bearer okta-credential ').id).toBe('okta');
  });
  it.each([
    undefined,
    '',
    'Bearer',
    'Bearer nope',
    'Basic okta-credential',
    'Bearer okta-credential x',
  ])('refuses %j with 401', (h) => {
    expect(() => authenticateClient(clients, h)).toThrow(
      expect.objectContaining({ code: 'unauthorized' }),
    );
  });

  it('normalises the subject by the issuer policy and refuses what a token could not carry', () => {
    const policy = clients[0]!.subject;
    expect(subjectFor(' 00u1 ', 'externalId', policy)).toBe('00u1');
    // Canonical or refused, as the resolver's subject step decides (issue #13): never rewritten.
    for (const bad of [
      undefined,
      '',
      '   ',
      'a\u0000b',
      'x'.repeat(11),
      7,
      'ab\u3000',
      '\u212Aelvin',
    ])
      expect(() => subjectFor(bad, 'externalId', policy)).toThrow(ScimError);
  });

  it('maps groups to roles by displayName (any case) or id', () => {
    const c = client('okta', 't', { engineering: ['eng'], 'g-2': ['ops', 'eng'] });
    expect(
      rolesFor(c, [
        { id: 'g-1', displayName: 'Engineering' },
        { id: 'g-2', displayName: 'Other' },
      ]),
    ).toEqual(['eng', 'ops']);
    expect(rolesFor(c, [])).toEqual([]);
  });

  it('If-Match: absent or * pass, the current version passes (weak or not), another is 412', () => {
    expect(() => checkIfMatch(undefined, 'W/"3"')).not.toThrow();
    expect(() => checkIfMatch('*', 'W/"3"')).not.toThrow();
    expect(() => checkIfMatch('"3"', 'W/"3"')).not.toThrow();
    expect(() => checkIfMatch('W/"1", W/"3"', 'W/"3"')).not.toThrow();
    expect(() => checkIfMatch('W/"2"', 'W/"3"')).toThrow(
      expect.objectContaining({ code: 'preconditionFailed' }),
    );
  });
});
