import { isSetError } from '@resolver/tokens';
import { mapSubject, type SubjectBinding } from './ssf-subject';

const policy = {
  claim: 'sub',
  lookup: 'external' as const,
  normalize: { trim: false, nfc: true, lowercase: false },
  pattern: undefined,
  maxLength: 255,
};
const binding: SubjectBinding = { issuer: { issuer: 'https://idp', subject: policy }, tenant: '' };
const key = (subject: string, strategy = 'external') => ({
  issuer: 'https://idp',
  tenant: '',
  subject,
  strategy,
  kind: 'user',
});
const refusal = (raw: unknown, b: SubjectBinding = binding): string => {
  try {
    mapSubject(raw, b);
  } catch (error) {
    if (isSetError(error)) return `${error.code}: ${error.description}`;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('mapSubject', () => {
  it("maps iss_sub and opaque to the bound issuer's lookup, email to the email lookup", () => {
    expect(mapSubject({ format: 'iss_sub', iss: 'https://idp', sub: 'alice' }, binding)).toEqual({
      keys: [key('alice')],
    });
    expect(mapSubject({ format: 'opaque', id: 'alice' }, binding).keys).toEqual([key('alice')]);
    // The email lookup folds ASCII case itself, nothing more.
    expect(mapSubject({ format: 'email', email: 'Alice@Example.com' }, binding).keys).toEqual([
      key('alice@example.com', 'email'),
    ]);
  });

  it("uses the issuer's strategy and only the folds it configured", () => {
    const byUsername: SubjectBinding = {
      issuer: {
        issuer: 'https://idp',
        subject: {
          ...policy,
          lookup: 'username',
          normalize: { ...policy.normalize, lowercase: true },
        },
      },
      tenant: 'acme',
    };
    expect(mapSubject({ format: 'opaque', id: 'Alice' }, byUsername).keys).toEqual([
      { ...key('alice', 'username'), tenant: 'acme' },
    ]);
    // No fold was configured: a subject with a trailing space is refused, never trimmed.
    expect(refusal({ format: 'iss_sub', iss: 'https://idp', sub: 'alice ' })).toMatch(
      /^invalid_request: sub_id.sub: not a subject the issuer's policy accepts/,
    );
    expect(refusal({ format: 'iss_sub', iss: 'https://idp', sub: 'cafe\u0301' })).toMatch(
      /^invalid_request/,
    );
  });

  it('maps a complex subject: user, session, and the bound tenant', () => {
    const tenanted: SubjectBinding = { ...binding, tenant: 'acme' };
    expect(
      mapSubject(
        {
          format: 'complex',
          user: { format: 'iss_sub', iss: 'https://idp', sub: 'alice' },
          session: { format: 'opaque', id: 'sess-1' },
          tenant: { format: 'opaque', id: 'acme' },
        },
        tenanted,
      ),
    ).toEqual({ keys: [{ ...key('alice'), tenant: 'acme' }], sessionId: 'sess-1' });
    expect(
      mapSubject({ format: 'complex', session: { format: 'opaque', id: 's' } }, binding),
    ).toEqual({
      keys: [],
      sessionId: 's',
    });
  });

  it('maps every alias; other formats name no user here', () => {
    expect(
      mapSubject(
        {
          format: 'aliases',
          identifiers: [
            { format: 'email', email: 'a@example.com' },
            { format: 'iss_sub', iss: 'https://idp', sub: 'alice' },
            { format: 'phone_number', phone_number: '+12065550100' },
          ],
        },
        binding,
      ).keys,
    ).toEqual([key('a@example.com', 'email'), key('alice')]);
    expect(mapSubject({ format: 'account', uri: 'acct:a@example.com' }, binding).keys).toEqual([]);
  });

  it.each([
    [{ format: 'iss_sub', iss: 'https://other', sub: 'alice' }, /^access_denied: sub_id.iss/],
    [
      {
        format: 'complex',
        user: { format: 'opaque', id: 'a' },
        tenant: { format: 'opaque', id: 'acme' },
      },
      /^access_denied: sub_id.tenant/,
    ],
    [
      { format: 'aliases', identifiers: [{ format: 'iss_sub', iss: 'https://other', sub: 'a' }] },
      /^access_denied/,
    ],
  ])('refuses a subject outside the binding: %j', (raw, expected) => {
    expect(refusal(raw)).toMatch(expected);
  });

  it.each([
    [undefined, /sub_id must be a subject identifier object/],
    ['alice', /sub_id must be/],
    [[], /sub_id must be/],
    [{}, /sub_id.format must be/],
    [{ format: 'iss_sub', iss: 'https://idp' }, /sub_id.sub/],
    [{ format: 'iss_sub', iss: 1, sub: 'a' }, /sub_id.iss must be a string/],
    [{ format: 'email', email: 'no-at-sign' }, /sub_id.email/],
    [{ format: 'email', email: 'a@b\u0000.com' }, /sub_id.email/],
    [{ format: 'opaque', id: 'x'.repeat(300) }, /sub_id.id/],
    [{ format: 'aliases', identifiers: [] }, /sub_id.identifiers/],
    [
      { format: 'aliases', identifiers: Array(17).fill({ format: 'opaque', id: 'a' }) },
      /sub_id.identifiers/,
    ],
    [
      { format: 'aliases', identifiers: [{ format: 'aliases', identifiers: [] }] },
      /cannot be nested/,
    ],
    [{ format: 'complex', user: { format: 'complex' } }, /cannot be nested/],
    [
      { format: 'complex', session: { format: 'email', email: 'a@b' } },
      /sub_id.session.format must be opaque/,
    ],
    [
      { format: 'complex', session: { format: 'opaque', id: 's'.repeat(257) } },
      /sub_id.session.id exceeds/,
    ],
  ])('refuses a malformed subject, naming the member: %j', (raw, expected) => {
    expect(refusal(raw)).toMatch(/^invalid_request/);
    expect(refusal(raw)).toMatch(expected);
  });

  it('reads own members only: a format from the prototype is no format', () => {
    const inherited = Object.create({ format: 'opaque', id: 'alice' }) as object;
    expect(refusal(inherited)).toMatch(/sub_id.format must be/);
    const hostile = JSON.parse('{"__proto__": {"format": "opaque", "id": "alice"}}') as object;
    expect(refusal(hostile)).toMatch(/sub_id.format must be/);
  });
});
