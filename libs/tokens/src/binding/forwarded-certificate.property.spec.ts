import fc from 'fast-check';
import { FORWARDED_CERTIFICATE_FORMATS } from '@resolver/config';
import { selfSignedCertificates, type TestCertificate } from '../testing/self-signed-certificates';
import { X509Certificate } from 'node:crypto';
import { hasCertificateShape, readDerCertificate, x5tS256 } from './certificate-binding';
import {
  parseXfcc,
  readForwardedCertificate,
  readPem,
  readRfc9440,
  readXfcc,
} from './forwarded-certificate';

let certs: TestCertificate[];
beforeAll(() => {
  certs = selfSignedCertificates(4);
});

const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/** Characters the formats give meaning to, so that generated values hit the parsers' branches. */
const GRAMMAR = fc.constantFrom(
  ...',;="\\ %:-=+/\n\tAaZz09',
  '-----BEGIN CERTIFICATE-----',
  '-----END CERTIFICATE-----',
  'Hash=',
  'Cert=',
  '%0A',
  '%2',
  'MII',
);
const hostile = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: GRAMMAR, maxLength: 120 }),
);

describe('forwarded certificate parsers (properties)', () => {
  it('never throw on any string, and answer a thumbprint or a named refusal', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORWARDED_CERTIFICATE_FORMATS), hostile, (format, value) => {
        const reading = readForwardedCertificate(format, value);
        if (reading.ok) expect(reading.thumbprint).toMatch(THUMBPRINT);
        else expect(typeof reading.refusal).toBe('string');
      }),
      { numRuns: 2_000 },
    );
  });

  it('never throw on arbitrary bytes as DER, and read only certificate-shaped bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const reading = readDerCertificate(bytes);
        expect(reading.ok).toBe(bytes.length > 0 && hasCertificateShape(bytes));
        if (reading.ok) expect(reading.thumbprint).toBe(x5tS256(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('accept every certificate OpenSSL reads back byte for byte (differential, mutated DER)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, at, xor) => {
        const der = Buffer.from(certs[i]!.der);
        const index = at % der.length;
        der[index] = der[index]! ^ xor;
        let openssl = false;
        try {
          openssl = new X509Certificate(der).raw.equals(der);
        } catch {
          openssl = false;
        }
        if (openssl) expect(hasCertificateShape(der)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('read a real certificate however the PEM is wrapped and percent-encoded', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 3 }),
        fc.constantFrom(64, 76, 1_000_000),
        fc.constantFrom('\n', '\r\n'),
        fc.func(fc.boolean()),
        (i, width, eol, encode) => {
          const cert = certs[i]!;
          const b64 = cert.der.toString('base64');
          const lines = b64.match(new RegExp(`.{1,${width}}`, 'g')) ?? [];
          const pem = [
            '-----BEGIN CERTIFICATE-----',
            ...lines,
            '-----END CERTIFICATE-----',
            '',
          ].join(eol);
          // Each character percent-encoded or not, as the generated function decides; a '%'
          // itself must always be encoded.
          const value = [...pem]
            .map((c, at) => (c === '%' || encode(c, at) ? encodeURIComponent(c) : c))
            .join('');
          expect(readForwardedCertificate('pem-url', value)).toEqual({
            ok: true,
            thumbprint: cert.opensslThumbprint,
          });
          expect(readPem(pem)).toEqual({ ok: true, thumbprint: cert.opensslThumbprint });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never read a changed certificate as the original', () => {
    fc.assert(
      fc.property(fc.nat({ max: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (i, at, xor) => {
        const cert = certs[i]!;
        const der = Buffer.from(cert.der);
        const index = at % der.length;
        der[index] = der[index]! ^ xor;
        const reading = readRfc9440(`:${der.toString('base64')}:`);
        if (reading.ok) expect(reading.thumbprint).not.toBe(cert.opensslThumbprint);
      }),
      { numRuns: 300 },
    );
  });

  it('parse back what Envoy would write, element by element', () => {
    const key = fc.string({ unit: fc.constantFrom(...'ByHashCertSubjectURIDNS'), minLength: 1 });
    const value = fc.string({ maxLength: 40 });
    const elements = fc.array(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 5 }), {
      minLength: 1,
      maxLength: 4,
    });
    const write = (v: string) =>
      /[,;="\\]/.test(v) || /^\s|\s$/.test(v) ? `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"` : v;
    fc.assert(
      fc.property(elements, (input) => {
        const header = input
          .map((pairs) => pairs.map(([k, v]) => `${k}=${write(v)}`).join(';'))
          .join(',');
        expect(parseXfcc(header)).toEqual(
          input.map((pairs) => pairs.map(([k, v]) => [k.toLowerCase(), v])),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('read the last element of any chain of real XFCC elements', () => {
    const hex = (c: TestCertificate) =>
      Buffer.from(c.opensslThumbprint, 'base64url').toString('hex');
    const elementOf = (c: TestCertificate, withCert: boolean) =>
      `By=spiffe://x;Hash=${hex(c)}${withCert ? `;Cert="${encodeURIComponent(c.pem)}"` : ''};Subject="/CN=a,O=b"`;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.boolean()), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(',', ', '),
        (chain, separator) => {
          const header = chain.map(([i, c]) => elementOf(certs[i]!, c)).join(separator);
          const last = certs[chain[chain.length - 1]![0]]!;
          expect(readXfcc(header)).toEqual({ ok: true, thumbprint: last.opensslThumbprint });
        },
      ),
      { numRuns: 200 },
    );
  });
});
