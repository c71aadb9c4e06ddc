import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate in the encodings gateways forward, and what OpenSSL itself says its thumbprint is. */
export interface TestCertificate {
  readonly pem: string;
  readonly der: Buffer;
  /** base64url(SHA-256(DER)) computed by the openssl CLI (`x509 -outform der | dgst -sha256`). */
  readonly opensslThumbprint: string;
}

/**
 * Self-signed certificates made by the openssl CLI (test only): P-256 and RSA keys, so that DER
 * lengths differ. The thumbprint oracle is openssl's own digest of its own DER output, computed
 * apart from the code under test.
 */
export function selfSignedCertificates(count: number): TestCertificate[] {
  const dir = mkdtempSync(join(tmpdir(), 'x5t-'));
  try {
    return Array.from({ length: count }, (_, i) => {
      const key =
        i % 2 === 0
          ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']
          : ['-newkey', 'rsa:2048'];
      const crt = join(dir, `c${i}.crt`);
      execFileSync(
        'openssl',
        ['req', '-x509', ...key, '-nodes', '-keyout', join(dir, `c${i}.key`), '-out', crt].concat([
          '-subj',
          `/CN=client-${i}/O=Binding Test`,
          '-days',
          '2',
        ]),
        { stdio: 'ignore' },
      );
      const der = execFileSync('openssl', ['x509', '-in', crt, '-outform', 'der']);
      const digest = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: der });
      return {
        pem: readFileSync(crt, 'utf8'),
        der,
        opensslThumbprint: digest.toString('base64url'),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
