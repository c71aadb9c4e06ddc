import { X509Certificate } from 'node:crypto';
import { selfSignedCertificates, type TestCertificate } from '../testing/self-signed-certificates';
import {
  checkCertificateBinding,
  hasCertificateShape,
  hexDigestToThumbprint,
  MAX_CERTIFICATE_DER_BYTES,
  readDerCertificate,
  thumbprintsMatch,
  x5tS256,
} from './certificate-binding';
import { confirmationOf } from './confirmation';

let certs: TestCertificate[];
beforeAll(() => {
  certs = selfSignedCertificates(2);
});

/** RFC 8705 §3.1's example: the confirmation claim of a certificate-bound JWT. */
const RFC8705_EXAMPLE = {
  iss: 'https://server.example.com',
  sub: 'ty.webb@example.com',
  exp: 1493726400,
  nbf: 1493722800,
  cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
};

describe('x5t#S256', () => {
  it("is base64url(SHA-256(DER)), as openssl's own digest of its DER says", () => {
    for (const cert of certs) {
      expect(x5tS256(cert.der)).toBe(cert.opensslThumbprint);
      // Node's fingerprint256 (colon-separated hex of the same digest) agrees.
      const hex = new X509Certificate(cert.pem).fingerprint256.replaceAll(':', '');
      expect(hexDigestToThumbprint(hex)).toBe(cert.opensslThumbprint);
    }
  });

  it('reads exactly one DER certificate, refusing garbage by name', () => {
    const der = certs[0]!.der;
    expect(readDerCertificate(der)).toEqual({ ok: true, thumbprint: certs[0]!.opensslThumbprint });
    expect(readDerCertificate(Buffer.alloc(0))).toEqual({ ok: false, refusal: 'empty' });
    expect(readDerCertificate(Buffer.concat([der, Buffer.from([0])]))).toEqual({
      ok: false,
      refusal: 'not_a_certificate',
    });
    expect(readDerCertificate(der.subarray(0, der.length - 1))).toEqual({
      ok: false,
      refusal: 'not_a_certificate',
    });
    expect(readDerCertificate(Buffer.from('hello'))).toEqual({
      ok: false,
      refusal: 'not_a_certificate',
    });
    expect(readDerCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]))).toEqual({
      ok: false,
      refusal: 'not_a_certificate',
    });
    expect(readDerCertificate(Buffer.alloc(MAX_CERTIFICATE_DER_BYTES + 1, 0x30))).toEqual({
      ok: false,
      refusal: 'too_large',
    });
  });

  it('knows the DER shape of a certificate, and nothing that merely resembles one', () => {
    for (const cert of certs) expect(hasCertificateShape(cert.der)).toBe(true);
    const der = certs[0]!.der;
    // The outer SEQUENCE's length in the long form: 0x82 hi lo.
    expect([der[0], der[1]]).toEqual([0x30, 0x82]);
    const withOuterLength = (hi: number, lo: number) =>
      Buffer.concat([Buffer.from([0x30, 0x82, hi, lo]), der.subarray(4)]);
    expect(hasCertificateShape(withOuterLength(der[2]!, der[3]! + 1))).toBe(false);
    // Non-minimal: three length bytes, or a long form with a leading zero.
    const content = der.subarray(4);
    expect(
      hasCertificateShape(Buffer.concat([Buffer.from([0x30, 0x83, 0, der[2]!, der[3]!]), content])),
    ).toBe(false);
    // Another outer tag, another tbsCertificate tag, no signature BIT STRING.
    expect(hasCertificateShape(Buffer.concat([Buffer.from([0x31]), der.subarray(1)]))).toBe(false);
    const tbsTag = Buffer.from(der);
    tbsTag[4] = 0x31;
    expect(hasCertificateShape(tbsTag)).toBe(false);
    const inner = Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00]); // version-less tbs: serial 0
    const algorithm = Buffer.from([0x30, 0x00]);
    const signature = Buffer.from([0x03, 0x01, 0x00]);
    const body = Buffer.concat([inner, algorithm, signature]);
    const minimal = Buffer.concat([Buffer.from([0x30, body.length]), body]);
    expect(hasCertificateShape(minimal)).toBe(true);
    const noSignature = Buffer.concat([inner, algorithm, Buffer.from([0x04, 0x01, 0x00])]);
    expect(
      hasCertificateShape(Buffer.concat([Buffer.from([0x30, noSignature.length]), noSignature])),
    ).toBe(false);
  });

  it('converts a hex digest only when it is 64 hex digits', () => {
    expect(hexDigestToThumbprint('00'.repeat(32))).toBe('A'.repeat(43));
    expect(hexDigestToThumbprint('0'.repeat(63))).toBeUndefined();
    expect(hexDigestToThumbprint('g'.repeat(64))).toBeUndefined();
    expect(hexDigestToThumbprint(`${'0'.repeat(64)}\n`)).toBeUndefined();
  });
});

/** The one reader of `cnf` (the binding step's), on what RFC 8705 tokens carry. */
describe('confirmationOf (certificate-bound tokens)', () => {
  it("reads RFC 8705 §3.1's example cnf", () => {
    expect(confirmationOf(RFC8705_EXAMPLE)).toEqual({
      jkt: undefined,
      x5tS256: 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2',
      unchecked: [],
      invalid: undefined,
    });
  });

  it('reads own properties only: an inherited cnf or x5t#S256 binds nothing', () => {
    const inherited = Object.create(RFC8705_EXAMPLE) as Record<string, unknown>;
    expect(confirmationOf(inherited)).toBeUndefined();
    const cnf = Object.create({ 'x5t#S256': RFC8705_EXAMPLE.cnf['x5t#S256'] }) as object;
    expect(confirmationOf({ cnf })?.x5tS256).toBeUndefined();
    // JSON.parse makes "__proto__" an own key holding an object, not the prototype.
    const parsed = JSON.parse(
      '{"cnf":{"__proto__":{"x5t#S256":"bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}}}',
    ) as Record<string, unknown>;
    expect(confirmationOf(parsed)?.x5tS256).toBeUndefined();
  });

  it.each([
    ['cnf is a string', 'x'],
    ['cnf is null', null],
    ['cnf is an array', [RFC8705_EXAMPLE.cnf]],
  ])('is invalid when %s', (_, cnf) => {
    expect(confirmationOf({ cnf })?.invalid).toEqual(expect.any(String));
  });

  it.each([
    ['a number', 42],
    ['padded', 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2='],
    ['standard base64', 'bwcK0esc3ACC3DB2Y5/lESsXE8o9ltc05O89jdN+dg2'],
    ['too short', 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg'],
    ['hex', 'aa'.repeat(32)],
    ['empty', ''],
  ])('is invalid when x5t#S256 is %s', (_, value) => {
    expect(confirmationOf({ cnf: { 'x5t#S256': value } })?.invalid).toContain('x5t#S256');
  });
});

describe('checkCertificateBinding', () => {
  const bound = () => certs[0]!.opensslThumbprint;

  it('accepts the certificate the token is bound to', () => {
    expect(checkCertificateBinding(bound(), readDerCertificate(certs[0]!.der))).toEqual({
      ok: true,
      thumbprint: bound(),
    });
  });

  it("refuses another client's certificate as a mismatch, naming the thumbprint seen", () => {
    expect(checkCertificateBinding(bound(), readDerCertificate(certs[1]!.der))).toEqual({
      ok: false,
      failure: 'mismatch',
      thumbprint: certs[1]!.opensslThumbprint,
    });
  });

  it('refuses no certificate as missing, never as a bearer token', () => {
    expect(checkCertificateBinding(bound(), undefined)).toEqual({ ok: false, failure: 'missing' });
  });

  it('refuses an unreadable certificate as invalid, with its refusal', () => {
    expect(checkCertificateBinding(bound(), readDerCertificate(Buffer.from('x')))).toEqual({
      ok: false,
      failure: 'invalid',
      refusal: 'not_a_certificate',
    });
  });

  it('compares thumbprints whole', () => {
    const a = bound();
    expect(thumbprintsMatch(a, a)).toBe(true);
    expect(thumbprintsMatch(a, `${a.slice(0, 42)}${a[42] === 'A' ? 'B' : 'A'}`)).toBe(false);
    expect(thumbprintsMatch(a, a.slice(0, 42))).toBe(false);
    expect(thumbprintsMatch(a, '')).toBe(false);
  });
});
