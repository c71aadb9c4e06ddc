import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CA_CONFIG = `[ca]
default_ca = own
[own]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = optional
organizationName = optional
organizationalUnitName = optional
`;

/** `openssl req` arguments for a new, unencrypted P-256 key. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface IssuedCertificate {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  /** `/CN=gateway/O=Example`. */
  readonly subject: string;
  readonly usage: 'server' | 'client';
  /** subjectAltName value, e.g. `DNS:gateway.internal,URI:spiffe://x`, or `@section` with `sections`. */
  readonly san?: string;
  /** Extra config sections (for SANs whose values hold commas). */
  readonly sections?: string;
  /** OpenSSL times (YYYYMMDDHHMMSSZ); default: from an hour ago to a day ahead. */
  readonly start?: string;
  readonly end?: string;
}

const stamp = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z')
    .slice(0, 15);

/**
 * A throwaway certificate authority for a test, made with the openssl CLI in a temp directory:
 * P-256 keys, certificates with chosen subjects, SANs, usages and validity (expired ones too).
 * Nothing here is ever committed; every key dies with the directory.
 */
export class TestPki {
  private serial = 0;

  private constructor(
    readonly dir: string,
    readonly name: string,
  ) {}

  get caCert(): string {
    return join(this.dir, 'ca.crt');
  }

  static async create(name = 'Test CA'): Promise<TestPki> {
    const dir = await mkdtemp(join(tmpdir(), 'resolver-pki-'));
    await writeFile(join(dir, 'ca.cnf'), CA_CONFIG);
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'serial'), '1000\n');
    await run(
      'openssl',
      [
        'req',
        '-x509',
        ...NEW_P256_KEY,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-subj',
        `/CN=${name}`,
        '-days',
        '3',
      ],
      { cwd: dir },
    );
    return new TestPki(dir, name);
  }

  /** Issues a certificate and key (PEM files in the PKI's directory). */
  async issue(file: string, options: IssueOptions): Promise<IssuedCertificate> {
    const id = `${file}-${++this.serial}`;
    const key = join(this.dir, `${id}.key`);
    const csr = join(this.dir, `${id}.csr`);
    const cert = join(this.dir, `${id}.crt`);
    const ext = join(this.dir, `${id}.ext`);
    await writeFile(
      ext,
      [
        '[ext]',
        'basicConstraints = CA:FALSE',
        `extendedKeyUsage = ${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
        ...(options.san ? [`subjectAltName = ${options.san}`] : []),
        options.sections ?? '',
      ].join('\n'),
    );
    await run(
      'openssl',
      ['req', ...NEW_P256_KEY, '-keyout', key, '-out', csr, '-subj', options.subject],
      { cwd: this.dir },
    );
    const now = Date.now();
    await run(
      'openssl',
      [
        'ca',
        '-batch',
        '-config',
        'ca.cnf',
        '-cert',
        'ca.crt',
        '-keyfile',
        'ca.key',
        '-in',
        csr,
        '-out',
        cert,
        '-notext',
        '-extfile',
        ext,
        '-extensions',
        'ext',
        '-startdate',
        options.start ?? stamp(now - 3_600_000),
        '-enddate',
        options.end ?? stamp(now + 86_400_000),
      ],
      { cwd: this.dir },
    );
    return { cert, key };
  }

  /** A server certificate for loopback and the examples' `resolver` host name. */
  server(file = 'server', extra: Partial<IssueOptions> = {}): Promise<IssuedCertificate> {
    return this.issue(file, {
      subject: '/CN=resolver',
      usage: 'server',
      san: 'DNS:localhost,DNS:resolver,IP:127.0.0.1',
      ...extra,
    });
  }

  read(path: string): Promise<Buffer> {
    return readFile(path);
  }

  async destroy(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** An OpenSSL time a number of milliseconds from now. */
export function opensslTime(offsetMs: number): string {
  return stamp(Date.now() + offsetMs);
}
