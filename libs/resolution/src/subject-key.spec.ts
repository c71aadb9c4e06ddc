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
  it('normalises: trim and NFC, case kept unless configured', () => {
    expect(keyOf(issuer(), { sub: '  Cafe\u0301 ' })).toMatchObject({
      subject: 'Café',
      tenant: '',
      strategy: 'external',
    });
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

  it('adds the tenant to the key, refusing a missing required one', () => {
    const cfg = issuer({}, { claim: 'tid', required: true });
    expect(keyOf(cfg, { sub: 'a', tid: 'acme' })).toMatchObject({ tenant: 'acme' });
    expect(keyOf(cfg, { sub: 'a' })).toBe('TENANT_MISSING');
    expect(keyOf(cfg, { sub: 'a', tid: ' ' })).toBe('TENANT_MISSING');
    expect(keyOf(cfg, { sub: 'a', tid: 5 })).toBe('CLAIM_INVALID');
    expect(keyOf(issuer({}, { claim: 'tid', required: false }), { sub: 'a' })).toMatchObject({
      tenant: '',
    });
  });
});
