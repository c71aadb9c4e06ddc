import { createHmac, type KeyObject, sign } from 'node:crypto';
import type { Pool } from 'pg';
import { REASON_TABLE, type ReasonCode } from '@resolver/reasons';
import type { ResolverHarness } from './resolver-harness';
import type { SigningKey } from './token-factory';

/** base64url of a JSON value, or of a string / bytes taken verbatim (hand-written JSON). */
export function b64(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('base64url');
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/**
 * Signs any header and payload (objects, or raw JSON text for shapes no library would emit) with
 * a fixture key, the way an attacker holding that key would: RS256 (PKCS#1 v1.5) or ES256
 * (raw r||s). The header is used as given; its `alg` is not checked here.
 */
export function signWith(key: SigningKey | KeyObject, header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const privateKey = 'privateKey' in (key as SigningKey) ? (key as SigningKey).privateKey : key;
  const isEc = (privateKey as { asymmetricKeyType?: string }).asymmetricKeyType === 'ec';
  const signature = sign(
    'sha256',
    Buffer.from(input),
    isEc ? { key: privateKey as never, dsaEncoding: 'ieee-p1363' } : (privateKey as never),
  );
  return `${input}.${signature.toString('base64url')}`;
}

/** HS256 over header and payload with an arbitrary secret (empty and weak ones included). */
export function hs256(secret: string | Buffer, header: unknown, payload: unknown): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** Row counts that JIT provisioning would change. */
export async function provisionedRows(db: Pool): Promise<{ users: number; links: number }> {
  const { rows } = await db.query<{ users: string; links: string }>(
    'SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM external_identities) AS links',
  );
  return { users: Number(rows[0]?.users), links: Number(rows[0]?.links) };
}

/**
 * Sends one token over HTTP (Authorization header, or JSON body for tokens too large for a
 * header) and over gRPC, and asserts the same reason, with its table status, on both.
 */
export async function expectRefusedOnBothTransports(
  app: ResolverHarness,
  token: string,
  reason: ReasonCode,
  via: 'header' | 'body' = 'header',
): Promise<void> {
  const http = await app.resolveHttp(via === 'header' ? { token } : { body: { token } });
  expect({ status: http.status, reason: http.body?.reason }).toEqual({
    status: REASON_TABLE[reason].httpStatus,
    reason,
  });
  const grpc = await app.resolveGrpc({ token });
  expect(grpc).toMatchObject({ ok: false, code: REASON_TABLE[reason].grpcStatus, reason });
}
