import type { JitPolicy } from '@resolver/config';
import type { ResolutionError } from '@resolver/reasons';
import { provisioningInput } from './jit-admission';
import type { LookupKey } from './principal';

const key: LookupKey = {
  issuer: 'i',
  tenant: 't',
  subject: 's',
  strategy: 'external',
  kind: 'user',
};
const policy = (over: Partial<JitPolicy> = {}): JitPolicy => ({
  enabled: true,
  requiredClaims: [],
  map: { email: 'email', name: 'displayName', groups: 'roles', dept: 'attributes.department' },
  defaultRoles: ['member'],
  ...over,
});
const reasonOf = (claims: Record<string, unknown>, p = policy()) => {
  try {
    provisioningInput(key, claims, p);
    return 'OK';
  } catch (error) {
    return (error as ResolutionError).reason;
  }
};

describe('provisioningInput', () => {
  it('maps claims to user fields, merging default roles', () => {
    expect(
      provisioningInput(
        key,
        { email: 'A@B.C', name: 'Ann', groups: ['x', 'member'], dept: 'Ops' },
        policy(),
      ),
    ).toEqual({
      tenant: 't',
      // In the issuer's namespace, active with no decision of anyone's.
      namespace: 'i',
      status: { status: 'active', decisions: {} },
      kind: 'user',
      provenance: 'jit',
      email: 'a@b.c',
      displayName: 'Ann',
      roles: ['member', 'x'],
      attributes: { department: 'Ops' },
    });
  });

  it('stores identifier claims as sent (only the email ASCII-case fold) or refuses them', () => {
    // Issue #13: a padded or non-NFC email/username would be a different identifier, not this one.
    expect(reasonOf({ email: ' a@b.c ' })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ email: '\u212Aelvin@b.c' })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ u: 'bob\u00a0' }, policy({ map: { u: 'username' } }))).toBe(
      'PROVISIONING_REJECTED',
    );
    expect(provisioningInput(key, { email: '\u00c5sa@B.C' }, policy()).email).toBe('\u00c5sa@b.c');
    // Display names are not identifiers: trimmed, never refused for it.
    expect(provisioningInput(key, { name: ' Ann ' }, policy()).displayName).toBe('Ann');
  });

  it('lets the lookup key set the field it looks up by', () => {
    const input = provisioningInput(
      { ...key, strategy: 'email', subject: 'k@e.y' },
      { email: 'other@x.y' },
      policy(),
    );
    expect(input.email).toBe('k@e.y');
  });

  it('refuses missing required claims and unusable values', () => {
    expect(reasonOf({}, policy({ requiredClaims: ['email'] }))).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ email: '' }, policy({ requiredClaims: ['email'] }))).toBe(
      'PROVISIONING_REJECTED',
    );
    expect(reasonOf({ email: 42 })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ email: 'x'.repeat(400) })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ name: 'a\u0000' })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ groups: [1, 2] })).toBe('PROVISIONING_REJECTED');
    expect(reasonOf({ email: 'ok@x.y', groups: 'a b' })).toBe('OK');
  });
});
