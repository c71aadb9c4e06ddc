import { type KeyObject, sign } from 'node:crypto';
import { createWriteStream } from 'node:fs';
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

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
let serial = 0;

/**
 * Writes one ES256 token per subject to `file` (one a line), each with its own `jti`, so no two
 * are equal. Signed with node:crypto directly (a third of jose's cost per token, the same
 * compact JWS): a run mints a few hundred thousand before any load.
 */
export async function mint(
  key: KeyObject,
  iss: string,
  subjects: readonly string[],
  file: string,
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const header = b64({ alg: 'ES256', kid: 'bench' });
  const out = createWriteStream(file);
  let chunk: string[] = [];
  for (const sub of subjects) {
    const input = `${header}.${b64({
      sub,
      email: `${sub}@bench.local`,
      iss,
      aud: AUD,
      iat: now - 5,
      exp: now + 3600,
      jti: `${sub}-${serial++}`,
    })}`;
    const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    chunk.push(`${input}.${signature.toString('base64url')}`);
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
