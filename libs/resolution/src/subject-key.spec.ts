import type { IssuerConfig } from '@resolver/config';
import type { ResolutionError } from '@resolver/reasons';
import type { VerifiedToken } from '@resolver/tokens';
import { lookupKeyFor } from './subject-key';

const issuer = (
  over: Partial<IssuerConfig['subject']> = {},
  tenant?: IssuerConfig['tenant'],
): IssuerConfig =>
  ({
    issuer: 'https://idp/',
    subject: {
      claim: 'sub',
      lookup: 'external',
      normalize: { trim: true, nfc: true, lowercase: false },
      maxLength: 20,
      ...over,
    },
    tenant,
  }) as IssuerConfig;
const token = (cfg: IssuerConfig, claims: Record<string, unknown>): VerifiedToken =>
  ({ issuer: cfg, claims, subject: claims[cfg.subject.claim] }) as VerifiedToken;
const keyOf = (cfg: IssuerConfig, claims: Record<string, unknown>) => {
  try {
    return lookupKeyFor(token(cfg, claims));
  } catch (error) {
    return (error as ResolutionError).reason;
  }
};

describe('lookupKeyFor', () => {
  it('validates, never rewrites: only the configured folds (ASCII-space trim, lowercase) apply', () => {
    expect(keyOf(issuer(), { sub: '  Caf\u00e9 ' })).toMatchObject({
      subject: 'Café',
      tenant: '',
      strategy: 'external',
    });
    // Not NFC: refused, not composed into the user "Café".
    expect(keyOf(issuer(), { sub: 'Cafe\u0301' })).toBe('SUBJECT_MALFORMED');
    // trim removes ASCII spaces only; other whitespace at the ends is refused.
    expect(keyOf(issuer(), { sub: 'admin\u3000' })).toBe('SUBJECT_MALFORMED');
    expect(keyOf(issuer(), { sub: '\u00a0admin' })).toBe('SUBJECT_MALFORMED');
    // Without trim (the default), even an ASCII space at an end is refused.
    const strict = issuer({ normalize: { trim: false, nfc: true, lowercase: false } });
    expect(keyOf(strict, { sub: 'admin ' })).toBe('SUBJECT_MALFORMED');
    expect(keyOf(strict, { sub: 'ad min' })).toMatchObject({ subject: 'ad min' });
    expect(
      keyOf(issuer({ normalize: { trim: true, nfc: true, lowercase: true } }), { sub: 'AbC' }),
    ).toMatchObject({ subject: 'abc' });
  });

  it.each([
    [{}, 'SUBJECT_MISSING'],
    [{ sub: null }, 'SUBJECT_MISSING'],
    [{ sub: '' }, 'SUBJECT_MISSING'],
    [{ sub: '  ' }, 'SUBJECT_MISSING'],
    [{ sub: 7 }, 'SUBJECT_MALFORMED'],
    [{ sub: true }, 'SUBJECT_MALFORMED'],
    [{ sub: { id: 1 } }, 'SUBJECT_MALFORMED'],
    [{ sub: 'x'.repeat(21) }, 'SUBJECT_MALFORMED'],
    [{ sub: 'a\u0000b' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'a\nb' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'a\ud800b' }, 'SUBJECT_MALFORMED'],
    [{ sub: '\ufeffadmin' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'ad\u200bmin' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'admin\u202e' }, 'SUBJECT_MALFORMED'],
    [{ sub: '\u212Aelvin' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'a\u2028b' }, 'SUBJECT_MALFORMED'],
    [{ sub: 'a\ufdd0' }, 'SUBJECT_MALFORMED'],
  ])('%j -> %s', (claims, reason) => {
    expect(keyOf(issuer(), claims)).toBe(reason);
  });

  it('enforces the pattern and the per-strategy shape', () => {
    expect(keyOf(issuer({ pattern: /^[a-z]+$/u }), { sub: 'abc1' })).toBe('SUBJECT_MALFORMED');
    expect(keyOf(issuer({ lookup: 'id' }), { sub: 'abc' })).toBe('SUBJECT_MALFORMED');
    expect(
      keyOf(issuer({ lookup: 'id', maxLength: 64 }), {
        sub: '0b2d1a3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
      }),
    ).toMatchObject({ strategy: 'id' });
    expect(keyOf(issuer({ lookup: 'email', claim: 'email' }), { email: 'nope' })).toBe(
      'SUBJECT_MALFORMED',
    );
  });

  it('folds only what the lookup documents: ASCII case of emails, hex case of UUIDs', () => {
    const email = issuer({ lookup: 'email', claim: 'email', maxLength: 64 });
    expect(keyOf(email, { email: 'Alice@Example.COM' })).toMatchObject({
      subject: 'alice@example.com',
    });
    // Non-ASCII letters are compared exactly: no Unicode case folding.
    expect(keyOf(email, { email: '\u00c5sa@example.com' })).toMatchObject({
      subject: '\u00c5sa@example.com',
    });
    const id = issuer({ lookup: 'id', maxLength: 64 });
    expect(keyOf(id, { sub: '0B2D1A3E-5F6A-4B7C-8D9E-0F1A2B3C4D5E' })).toMatchObject({
      subject: '0b2d1a3e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
    });
  });

  it('names the offending code point and its position', () => {
    expect(() => lookupKeyFor(token(issuer(), { sub: 'admin\u3000' }))).toThrow(
      'U+3000 (trailing whitespace) at code point 5',
    );
    expect(() => lookupKeyFor(token(issuer(), { sub: '\u212Aelvin' }))).toThrow(
      /U\+212A \(not in Unicode NFC.*at code point 0/,
    );
  });

  it('adds the tenant to the key, refusing a missing required one', () => {
    const cfg = issuer({}, { claim: 'tid', required: true });
    expect(keyOf(cfg, { sub: 'a', tid: 'acme' })).toMatchObject({ tenant: 'acme' });
    expect(keyOf(cfg, { sub: 'a' })).toBe('TENANT_MISSING');
    // Whitespace is not "no tenant": a tenant is validated like a subject, never trimmed.
    expect(keyOf(cfg, { sub: 'a', tid: ' ' })).toBe('CLAIM_INVALID');
    expect(keyOf(cfg, { sub: 'a', tid: 'acme\u00a0' })).toBe('CLAIM_INVALID');
    expect(keyOf(cfg, { sub: 'a', tid: '' })).toBe('TENANT_MISSING');
    expect(keyOf(cfg, { sub: 'a', tid: 5 })).toBe('CLAIM_INVALID');
    expect(keyOf(issuer({}, { claim: 'tid', required: false }), { sub: 'a' })).toMatchObject({
      tenant: '',
    });
  });
});
