import { execFileSync } from 'node:child_process';
import { chown, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '@resolver/identity';
import { TestPki } from '../support/certificates';
import { seedUser } from '../support/database';
import { JwksServer } from '../support/jwks-server';
import { freePort } from '../support/ports';
import { ResolverHarness } from '../support/resolver-harness';
import { claimsFor, TokenFactory } from '../support/token-factory';

const ISSUER = 'https://pg-tls.idp.test';
const AUD = 'api://pg-tls';

/** The uid and gid Postgres runs as: the `postgres` system user when we are root, else us. */
function postgresOwner(): { uid: number; gid: number } {
  if (process.getuid?.() !== 0)
    return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * The resolver's connection to Postgres over TLS, configured only by `DATABASE_URL`'s libpq
 * parameters: a real Postgres that accepts TLS connections only (hostssl, plaintext rejected),
 * with a certificate from a test CA. `sslmode=verify-full` with that CA serves requests; the
 * same with another CA is refused at boot.
 */
describe('Postgres over TLS (sslmode and sslrootcert in DATABASE_URL)', () => {
  let dir: string;
  let pg: EmbeddedDatabase;
  let pki: TestPki;
  let rogue: TestPki;
  let idp: JwksServer;
  let keys: TokenFactory;
  const tlsUrl = (ca: string, mode = 'verify-full') => {
    const url = new URL(pg.url);
    url.searchParams.set('sslmode', mode);
    url.searchParams.set('sslrootcert', ca);
    return url.toString();
  };

  beforeAll(async () => {
    pki = await TestPki.create('Postgres Test CA');
    rogue = await TestPki.create('Rogue CA');
    dir = await mkdtemp(join(tmpdir(), 'resolver-pg-tls-'));
    pg = await startEmbeddedDatabase({ dataDir: dir, port: await freePort() });
    // Turn TLS on and plaintext off, as an operator would: key and certificate in the data
    // directory (owned by Postgres, key 0600), hostssl only, then a reload.
    const data = join(dir, 'pg');
    const server = await pki.server('postgres');
    const owner = postgresOwner();
    for (const [from, to, mode] of [
      [server.cert, 'server.crt', 0o644],
      [server.key, 'server.key', 0o600],
    ] as const) {
      await copyFile(from, join(data, to));
      await chown(join(data, to), owner.uid, owner.gid);
      execFileSync('chmod', [mode.toString(8), join(data, to)]);
    }
    await writeFile(
      join(data, 'pg_hba.conf'),
      'local all all trust\nhostnossl all all 0.0.0.0/0 reject\nhostssl all all 127.0.0.1/32 scram-sha-256\n',
    );
    const admin = new Pool({ connectionString: pg.url, max: 1, ssl: false });
    await admin.query(`ALTER SYSTEM SET ssl = on`);
    await admin.query(`SELECT pg_reload_conf()`);
    await admin.end();
    idp = await new JwksServer().start();
    keys = await TokenFactory.create('pg-tls');
  });
  afterAll(async () => {
    await idp?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
    await pki?.destroy();
    await rogue?.destroy();
  });

  const start = (databaseUrl: string) =>
    ResolverHarness.start({
      databaseUrl,
      config: { database: { retryAttempts: 1, connectTimeoutMs: 1000 } },
      issuers: [
        {
          issuer: ISSUER,
          jwksUri: idp.publishJwks('pg-tls', keys.publicJwks()),
          audiences: [AUD],
          algorithms: ['RS256'],
        },
      ],
    });

  it('the test Postgres accepts TLS connections only', async () => {
    const plain = new Pool({ connectionString: pg.url, max: 1, ssl: false });
    await expect(plain.query('SELECT 1')).rejects.toThrow(/no encryption|pg_hba/);
    await plain.end();
  });

  it('with sslmode=verify-full and the CA the resolver migrates, resolves and reports the connection encrypted', async () => {
    const url = tlsUrl(pki.caCert);
    const app = await start(url);
    try {
      const db = new Pool({
        connectionString: pg.url,
        max: 1,
        ssl: { ca: await readFile(pki.caCert, 'utf8') },
      });
      const id = await seedUser(db, ISSUER, { subject: 'alice' });
      // Every backend the resolver holds is on TLS (hostssl would refuse any other anyway).
      const { rows } = await db.query<{ ssl: boolean }>(
        `SELECT bool_and(s.ssl) AS ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
          WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()`,
      );
      await db.end();
      const token = await keys.sign(
        claimsFor(ISSUER, AUD, Math.floor(Date.now() / 1000), { sub: 'alice' }),
      );
      const res = await app.resolveHttp({ token });
      expect(res.status).toBe(200);
      expect((res.body as { principal: { id: string } }).principal.id).toBe(id);
      expect(rows[0]?.ssl).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('a server certificate from another CA is refused: the resolver does not start', async () => {
    await expect(start(tlsUrl(rogue.caCert))).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  });
});
