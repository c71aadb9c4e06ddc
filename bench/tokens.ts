import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Client } from 'pg';
import { log } from './processes';

export const AUD = 'bench';

function bar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done.toLocaleString()}/${total.toLocaleString()}`;
}

/**
 * Seeds `users` users u1..uN of issuer `iss` with their external identities, and links the first
 * `alsoLinked` of them to each issuer of `otherIssuers` too.
 */
export async function seed(
  url: string,
  users: number,
  iss: string,
  otherIssuers: readonly string[] = [],
  alsoLinked = 0,
): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const chunk = 50_000;
  const started = Date.now();
  for (let from = 1; from <= users; from += chunk) {
    const to = Math.min(users, from + chunk - 1);
    await client.query(
      `WITH u AS (
         INSERT INTO users (tenant, email, username, provenance)
         SELECT '', 'u' || g || '@bench.local', 'u' || g, 'import' FROM generate_series($1::int, $2::int) g
         RETURNING id, username)
       INSERT INTO external_identities (issuer, tenant, subject, user_id) SELECT $3, '', username, id FROM u`,
      [from, to, iss],
    );
    if (process.stderr.isTTY) process.stderr.write(`\rseeding users ${bar(to, users)}`);
    else if (to === users || (to / chunk) % 5 === 0) log(`seeding users ${bar(to, users)}`);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  for (const other of otherIssuers)
    await client.query(
      `INSERT INTO external_identities (issuer, tenant, subject, user_id)
       SELECT $1, '', subject, user_id FROM external_identities
       WHERE issuer = $2 AND subject = ANY($3::text[])`,
      [other, iss, Array.from({ length: Math.min(users, alsoLinked) }, (_, i) => `u${i + 1}`)],
    );
  // Vacuumed and checkpointed now, so autovacuum and a checkpoint do not run during the load
  // (the database shares its core with the load generators).
  await client.query('VACUUM ANALYZE users');
  await client.query('VACUUM ANALYZE external_identities');
  await client.query('CHECKPOINT');
  await client.end();
  log(`seeded ${users.toLocaleString()} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** A signing key of the bench's IdP: its algorithm follows the key (RSA: RS256, P-256: ES256). */
export interface SigningKey {
  /** PKCS#8 PEM: it crosses into worker threads as text. */
  readonly pem: string;
  readonly kid: string;
}

/** One token file to mint: one token per subject, one a line. */
export interface MintJob {
  readonly key: SigningKey;
  readonly iss: string;
  readonly subjects: readonly string[];
  readonly file: string;
  /**
   * `jwe`: each signed JWT encrypted to `encryption` (ECDH-ES+A256KW, A256GCM, `cty: JWT`);
   * `paseto`: the same claims as a PASETO v4.public token signed with `key` (Ed25519). Default:
   * the signed JWT.
   */
  readonly format?: 'jwe' | 'paseto';
  readonly encryption?: SigningKey;
}

/** PAE (PASETO §2.2), as the resolver's own: little-endian 64-bit lengths. */
function pae(...pieces: Buffer[]): Buffer {
  const le64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  return Buffer.concat([le64(pieces.length), ...pieces.flatMap((p) => [le64(p.length), p])]);
}

/** A v4.public token of `claims` (times as RFC 3339) with footer `{"kid": …}`. */
function pasetoToken(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const iso = (v: unknown) => new Date((v as number) * 1000).toISOString();
  const m = Buffer.from(JSON.stringify({ ...claims, iat: iso(claims.iat), exp: iso(claims.exp) }));
  const f = Buffer.from(JSON.stringify({ kid }));
  const h = Buffer.from('v4.public.');
  const sig = sign(null, pae(h, m, f, Buffer.alloc(0)), key);
  return `v4.public.${Buffer.concat([m, sig]).toString('base64url')}.${f.toString('base64url')}`;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Writes one token per subject to `job.file` (one a line), each with its own `jti`, so no two
 * are equal. Signed with node:crypto directly (a third of jose's cost per token, the same
 * compact JWS): a run mints a few hundred thousand before any load. `serial` keeps `jti`s apart
 * between jobs minted in parallel.
 */
async function mintFile(job: MintJob, serial: number): Promise<void> {
  const key: KeyObject = createPrivateKey(job.key.pem);
  const rsa = key.asymmetricKeyType === 'rsa';
  // jose only for JWE (ESM, required here from the CommonJS build: Node >= 20.19).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jose = job.format === 'jwe' ? (require('jose') as typeof import('jose')) : undefined;
  const encryptTo = job.encryption && createPublicKey(job.encryption.pem);
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: rsa ? 'RS256' : 'ES256', kid: job.key.kid });
  const out = createWriteStream(job.file);
  let chunk: string[] = [];
  for (const sub of job.subjects) {
    const claims = {
      sub,
      email: `${sub}@bench.local`,
      iss: job.iss,
      aud: AUD,
      iat: now - 5,
      exp: now + 3600,
      jti: `${sub}-${serial++}`,
    };
    if (job.format === 'paseto') {
      chunk.push(pasetoToken(claims, key, job.key.kid));
    } else {
      const input = `${header}.${b64(claims)}`;
      const signature = rsa
        ? sign('sha256', Buffer.from(input), key)
        : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
      const jws = `${input}.${signature.toString('base64url')}`;
      chunk.push(
        jose && encryptTo && job.encryption
          ? await new jose.CompactEncrypt(Buffer.from(jws))
              .setProtectedHeader({
                alg: 'ECDH-ES+A256KW',
                enc: 'A256GCM',
                kid: job.encryption.kid,
                cty: 'JWT',
              })
              .encrypt(encryptTo)
          : jws,
      );
    }
    if (chunk.length === 2000) {
      if (!out.write(`${chunk.join('\n')}\n`))
        await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  out.write(chunk.join('\n'));
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

let nextSerial = 0;

/**
 * Mints every job, spread over one worker thread per core (an RS256 signature costs about a
 * millisecond here: the full-miss slices alone are about 100,000 of them). Done before any load.
 */
export async function mintAll(jobs: readonly MintJob[]): Promise<void> {
  const queue = jobs.map((job) => {
    const serial = nextSerial;
    nextSerial += job.subjects.length;
    return { job, serial };
  });
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { job, serial } = next;
      await new Promise<void>((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { job, serial } });
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', (code) => (code ? reject(new Error(`mint worker exited ${code}`)) : null));
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cpus().length) }, worker));
}

if (!isMainThread && (workerData as { job?: MintJob } | null)?.job) {
  const { job, serial } = workerData as { job: MintJob; serial: number };
  void mintFile(job, serial).then(() => parentPort?.postMessage('done'));
}
