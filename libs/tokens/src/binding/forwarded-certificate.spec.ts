import { selfSignedCertificates, type TestCertificate } from '../testing/self-signed-certificates';
import {
  MAX_FORWARDED_CERTIFICATE_CHARS,
  parseXfcc,
  readForwardedCertificate,
  readPem,
  readRfc9440,
  readTraefik,
  readUrlEncodedPem,
  readXfcc,
} from './forwarded-certificate';

let certs: TestCertificate[];
beforeAll(() => {
  certs = selfSignedCertificates(2);
});
const leaf = () => certs[0]!;
const other = () => certs[1]!;
const ok = (cert: TestCertificate) => ({ ok: true, thumbprint: cert.opensslThumbprint });
const no = (refusal: string) => ({ ok: false, refusal });
const hex = (cert: TestCertificate) =>
  Buffer.from(cert.opensslThumbprint, 'base64url').toString('hex');
/** What nginx's `$ssl_client_escaped_cert` and Envoy's `Cert=` carry. */
const escaped = (cert: TestCertificate) => encodeURIComponent(cert.pem);

describe('URL-encoded PEM (nginx $ssl_client_escaped_cert, ext_authz source.certificate)', () => {
  it('reads the certificate', () => {
    expect(readUrlEncodedPem(escaped(leaf()))).toEqual(ok(leaf()));
    // nginx escapes fewer characters than encodeURIComponent: only what a header cannot hold.
    const nginx = leaf().pem.replaceAll('\n', '%0A').replaceAll(' ', '%20');
    expect(readUrlEncodedPem(nginx)).toEqual(ok(leaf()));
    expect(readForwardedCertificate('pem-url', escaped(other()))).toEqual(ok(other()));
  });

  it('refuses what is not one certificate, by name', () => {
    expect(readUrlEncodedPem('')).toEqual(no('empty'));
    expect(readUrlEncodedPem('%')).toEqual(no('not_url_encoded'));
    expect(readUrlEncodedPem('%C0%80')).toEqual(no('not_url_encoded'));
    expect(readUrlEncodedPem('hello')).toEqual(no('not_pem'));
    expect(readUrlEncodedPem(encodeURIComponent(leaf().pem + other().pem))).toEqual(no('not_pem'));
    const body = '-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n';
    expect(readPem(body)).toEqual(no('not_a_certificate'));
    // "aGVsbG9=" decodes like "aGVsbG8=" but sets unused bits: not canonical base64.
    expect(readPem(body.replace('aGVsbG8=', 'aGVsbG9='))).toEqual(no('not_pem'));
    expect(readPem(leaf().pem.replace('-----END', '!-----END'))).toEqual(no('not_pem'));
    expect(readPem(leaf().pem.replace('BEGIN CERTIFICATE', 'BEGIN PUBLIC KEY'))).toEqual(
      no('not_pem'),
    );
  });
});

describe('RFC 9440 Client-Cert', () => {
  it('reads the byte sequence, with surrounding whitespace', () => {
    expect(readRfc9440(`:${leaf().der.toString('base64')}:`)).toEqual(ok(leaf()));
    expect(readRfc9440(` :${leaf().der.toString('base64')}: `)).toEqual(ok(leaf()));
  });

  it('refuses anything but strict padded base64 between colons', () => {
    const b64 = leaf().der.toString('base64');
    expect(readRfc9440(b64)).toEqual(no('not_base64'));
    expect(readRfc9440(':')).toEqual(no('not_base64'));
    // "hello": padded it is base64 (of no certificate); unpadded or base64url it is not base64.
    expect(readRfc9440(':aGVsbG8=:')).toEqual(no('not_a_certificate'));
    expect(readRfc9440(':aGVsbG8:')).toEqual(no('not_base64'));
    expect(readRfc9440(':-_-_:')).toEqual(no('not_base64'));
    expect(readRfc9440(`:${b64}=:`)).toEqual(no('not_base64'));
    expect(readRfc9440('::')).toEqual(no('empty'));
  });
});

describe('Traefik passTLSClientCert pem', () => {
  it('reads the leaf, first of the comma-separated chain', () => {
    const bare = (c: TestCertificate) => c.der.toString('base64');
    expect(readTraefik(encodeURIComponent(`${bare(leaf())},${bare(other())}`))).toEqual(ok(leaf()));
    expect(readForwardedCertificate('traefik', encodeURIComponent(bare(other())))).toEqual(
      ok(other()),
    );
    expect(readTraefik('%zz')).toEqual(no('not_url_encoded'));
    expect(readTraefik(encodeURIComponent(leaf().pem))).toEqual(no('not_base64'));
  });
});

describe('x-forwarded-client-cert (Envoy)', () => {
  /** An element as Envoy writes it with `set_current_client_cert_details: {cert: true, ...}`. */
  const element = (cert: TestCertificate, hash = hex(cert)) =>
    `By=spiffe://cluster.local/ns/default/sa/resolver;Hash=${hash};Cert="${escaped(cert)}";` +
    `Subject="/CN=client,O=Binding Test";URI=spiffe://cluster.local/ns/default/sa/client;DNS=a;DNS=b`;

  it("parses the grammar of Envoy's documented example", () => {
    // From Envoy's x-forwarded-client-cert documentation.
    const example =
      'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
      'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com';
    expect(parseXfcc(example)).toEqual([
      [
        ['by', 'http://frontend.lyft.com'],
        ['hash', '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688'],
        ['subject', '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client'],
        ['uri', 'http://testclient.lyft.com'],
      ],
    ]);
    expect(readXfcc(example)).toEqual({
      ok: true,
      thumbprint: Buffer.from(
        '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688',
        'hex',
      ).toString('base64url'),
    });
  });

  it('reads Cert= and checks it against Hash=', () => {
    expect(readXfcc(element(leaf()))).toEqual(ok(leaf()));
    expect(readXfcc(`Cert="${escaped(leaf())}"`)).toEqual(ok(leaf()));
    expect(readXfcc(`Cert=${escaped(leaf())}`)).toEqual(ok(leaf()));
    expect(readXfcc(`Hash=${hex(leaf()).toUpperCase()}`)).toEqual(ok(leaf()));
  });

  it('takes the last element: the one the gateway in front of the resolver appended', () => {
    const forged = element(other());
    expect(readXfcc(`${forged},${element(leaf())}`)).toEqual(ok(leaf()));
    // Two header lines joined by a proxy or by Node: ", ".
    expect(readXfcc(`${forged}, ${element(leaf())}`)).toEqual(ok(leaf()));
  });

  it('refuses a tampered Hash= (not the SHA-256 of Cert=)', () => {
    expect(readXfcc(element(leaf(), hex(other())))).toEqual(no('xfcc_hash_mismatch'));
  });

  it('refuses what cannot be read unambiguously', () => {
    const h = hex(leaf());
    expect(readXfcc(`Hash=${h.slice(1)}`)).toEqual(no('xfcc_hash_malformed'));
    expect(readXfcc(`Hash="${h} "`)).toEqual(no('xfcc_hash_malformed'));
    expect(readXfcc('By=spiffe://x;Subject="CN=a"')).toEqual(no('xfcc_no_certificate'));
    expect(readXfcc(`Hash=${h};Hash=${hex(other())}`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash=${h};Subject="CN=a`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash=${h};Subject="CN=a"x`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash=${h},`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`,Hash=${h}`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash=${h};`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash=${h};Subject=CN=a`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Hash`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Ha sh=${h}`)).toEqual(no('xfcc_malformed'));
    expect(readXfcc(`Cert="%"`)).toEqual(no('not_url_encoded'));
    expect(readXfcc(' ')).toEqual(no('empty'));
  });

  it('unescapes quotes inside quoted values', () => {
    expect(parseXfcc('Subject="CN=a\\"b,c;d";URI=x')).toEqual([
      [
        ['subject', 'CN=a"b,c;d'],
        ['uri', 'x'],
      ],
    ]);
  });
});

describe('bounds', () => {
  it.each(['xfcc', 'pem-url', 'rfc9440', 'traefik'] as const)(
    'refuses a %s value past the bound unread',
    (format) => {
      const huge = 'A'.repeat(MAX_FORWARDED_CERTIFICATE_CHARS + 1);
      expect(readForwardedCertificate(format, huge)).toEqual(no('too_large'));
    },
  );
});
