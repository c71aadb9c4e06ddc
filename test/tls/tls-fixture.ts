import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, seedUser, sqlPool } from '../support/database';
import { type IssuedCertificate, TestPki } from '../support/certificates';
import { JwksServer } from '../support/jwks-server';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

const run = promisify(execFile);

export const TLS_ISSUER = 'https://tls.idp.test';
export const TLS_AUDIENCE = 'api://tls';

export interface CurlResult {
  /** curl's exit code: 0 when an HTTP answer came back. */
  readonly exit: number;
  readonly status: number;
  readonly httpVersion: string;
  readonly body: string;
  readonly stderr: string;
}

/** One request with the curl CLI: the real TLS client an operator would use. */
export async function curl(
  url: string,
  options: {
    ca: string;
    client?: IssuedCertificate;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    extra?: string[];
  },
): Promise<CurlResult> {
  const args = ['-sS', '--max-time', '10', '--cacert', options.ca, '-X', options.method ?? 'GET'];
  if (options.client) args.push('--cert', options.client.cert, '--key', options.client.key);
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (options.body !== undefined) args.push('--data-binary', options.body);
  args.push(...(options.extra ?? []), '-w', '\n@@%{http_code} %{http_version}', url);
  try {
    const { stdout, stderr } = await run('curl', args);
    const at = stdout.lastIndexOf('\n@@');
    const [status, version] = stdout.slice(at + 3).split(' ');
    return {
      exit: 0,
      status: Number(status),
      httpVersion: version ?? '',
      body: stdout.slice(0, at),
      stderr,
    };
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { exit: e.code ?? -1, status: 0, httpVersion: '', body: '', stderr: e.stderr ?? '' };
  }
}

/** The value of one sample of the exposition text, or undefined. */
export function sample(
  metrics: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.indexOf('}');
    const have = line.slice(name.length + 1, close).split(',');
    if (wanted.every((w) => have.includes(w))) return Number(line.slice(close + 2));
  }
  return undefined;
}

/**
 * A resolver serving TLS on both listeners with client-certificate callers, a PKI and a rogue
 * one, the certificates the suites present, an IdP and a seeded user.
 */
export class TlsFixture {
  private constructor(
    readonly pki: TestPki,
    readonly rogue: TestPki,
    readonly certs: Record<
      | 'server'
      | 'gateway'
      | 'backend'
      | 'operator'
      | 'stranger'
      | 'expired'
      | 'notYet'
      | 'untrusted'
      | 'hostileSan'
      | 'serverAsClient',
      IssuedCertificate
    >,
    readonly idp: JwksServer,
    readonly keys: TokenFactory,
    readonly app: ResolverHarness,
    readonly userId: string,
  ) {}

  static async start(tls: (pki: TestPki, server: IssuedCertificate) => Record<string, unknown>) {
    const pki = await TestPki.create('Resolver Test CA');
    const rogue = await TestPki.create('Rogue CA');
    const client = (subject: string, san?: string) =>
      pki.issue('client', { subject, usage: 'client', san });
    const certs = {
      server: await pki.server(),
      gateway: await client('/CN=gateway/O=Example', 'DNS:gateway.internal'),
      backend: await client('/CN=backend/O=Example', 'URI:spiffe://example/backend'),
      operator: await client('/CN=operator/O=Example'),
      stranger: await client('/CN=stranger/O=Example', 'DNS:stranger.internal'),
      expired: await pki.issue('expired', {
        subject: '/CN=gateway/O=Example',
        usage: 'client',
        san: 'DNS:gateway.internal',
        start: '20200101000000Z',
        end: '20200102000000Z',
      }),
      notYet: await pki.issue('not-yet', {
        subject: '/CN=gateway/O=Example',
        usage: 'client',
        san: 'DNS:gateway.internal',
        start: '20990101000000Z',
        end: '20990102000000Z',
      }),
      untrusted: await rogue.issue('rogue', {
        subject: '/CN=gateway/O=Example',
        usage: 'client',
        san: 'DNS:gateway.internal',
      }),
      // One SAN whose value smuggles a second name after a comma: it is one name, not two.
      hostileSan: await pki.issue('hostile', {
        subject: '/CN=gateway, O=Example/O=Example',
        usage: 'client',
        san: '@alt',
        sections:
          '[alt]\nDNS.1 = evil.example, DNS:gateway.internal\nURI.1 = x, URI:spiffe://example/backend',
      }),
      // A server certificate (serverAuth only) presented as a client certificate.
      serverAsClient: await pki.issue('server-as-client', {
        subject: '/CN=backend/O=Example',
        usage: 'server',
        san: 'URI:spiffe://example/backend',
      }),
    };
    const idp = await new JwksServer().start();
    const keys = await TokenFactory.create('tls');
    const jwksUri = idp.publishJwks('tls', keys.publicJwks());
    const databaseUrl = await createTestDatabase('tls');
    const app = await ResolverHarness.start({
      databaseUrl,
      issuers: [{ issuer: TLS_ISSUER, jwksUri, audiences: [TLS_AUDIENCE], algorithms: ['RS256'] }],
      config: { tls: tls(pki, certs.server) },
      env: { ADMIN_TOKEN: 'tls-suite-admin-token-0123456789' },
    });
    const db = sqlPool(databaseUrl);
    const userId = await seedUser(db, TLS_ISSUER, { subject: 'alice', roles: ['reader'] });
    await db.end();
    return new TlsFixture(pki, rogue, certs, idp, keys, app, userId);
  }

  token(sub = 'alice'): Promise<string> {
    return this.keys.sign(
      claimsFor(TLS_ISSUER, TLS_AUDIENCE, Math.floor(Date.now() / 1000), { sub }),
    );
  }

  get url(): string {
    return this.app.url;
  }

  /** /metrics, read without a client certificate (it is an open surface). */
  async metrics(): Promise<string> {
    const res = await curl(`${this.url}/metrics`, { ca: this.pki.caCert });
    return res.body;
  }

  async close(): Promise<void> {
    await this.app?.close();
    await this.idp?.stop();
    await this.pki?.destroy();
    await this.rogue?.destroy();
  }
}
