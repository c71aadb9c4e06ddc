import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IssuerConfig, PasetoPolicy } from '@resolver/config';
import { ResolutionError } from '@resolver/reasons';
import { checkJsonStructure, ownData } from '../compact-token';
import { MAX_TIME_SECONDS, MIN_TIME_SECONDS } from '../claim-checks';
import { PASETO_V4_PUBLIC } from './token-format';

/**
 * PASETO v4.public (Ed25519), verified with `node:crypto` and the pre-authentication encoding
 * written here from the specification (PASETO §2.2 PAE, v4 §Sign/Verify): no PASETO library
 * (the `paseto` npm package is deprecated and unmaintained). Only v4.public: the format step
 * refuses every other version and purpose before anything here runs.
 */

const SIGNATURE_BYTES = 64;
/** A footer longer than this is refused before it is parsed, whatever the issuer allows. */
export const MAX_PASETO_FOOTER_BYTES = 8192;
const HEADER = Buffer.from(PASETO_V4_PUBLIC);
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A v4.public token taken apart, nothing trusted yet. */
export interface PasetoToken {
  readonly message: Buffer;
  readonly signature: Buffer;
  readonly footer: Buffer;
  /** The footer's JSON object (own data), or undefined for an empty footer. */
  readonly footerClaims?: Readonly<Record<string, unknown>>;
  /** The footer's `kid`, which selects the issuer's key. */
  readonly kid?: string;
  /** The claims as PASETO carries them (times as RFC 3339 strings). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** PAE (PASETO §2.2): the count and each piece, each prefixed by its length as 64-bit LE. */
export function pae(...pieces: readonly Uint8Array[]): Buffer {
  const le64 = (n: number) => {
    const b = Buffer.alloc(8);
    // The top bit is cleared, as the specification requires (lengths never reach it here).
    b.writeBigUInt64LE(BigInt(n) & 0x7fff_ffff_ffff_ffffn);
    return b;
  };
  const parts: Buffer[] = [le64(pieces.length)];
  for (const piece of pieces) parts.push(le64(piece.length), Buffer.from(piece));
  return Buffer.concat(parts);
}

function canonical(segment: string, what: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (!BASE64URL.test(segment) || bytes.toString('base64url') !== segment)
    throw new ResolutionError('TOKEN_MALFORMED', `PASETO ${what} is not canonical base64url`);
  return bytes;
}

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', `PASETO ${what} is not UTF-8`);
  }
  checkJsonStructure(text, `PASETO ${what}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ResolutionError('TOKEN_MALFORMED', `PASETO ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ResolutionError('TOKEN_MALFORMED', `PASETO ${what} is not a JSON object`);
  return ownData(value) as Record<string, unknown>;
}

/**
 * Parses `v4.public.<payload>[.<footer>]`: the payload is the message and a 64-byte signature;
 * the message must be a JSON claims object; a footer, when present, a JSON object of at most
 * {@link MAX_PASETO_FOOTER_BYTES} whose `kid` (if any) is a string. TOKEN_MALFORMED otherwise.
 */
export function parsePasetoV4Public(token: string): PasetoToken {
  if (!token.startsWith(PASETO_V4_PUBLIC))
    throw new ResolutionError('TOKEN_MALFORMED', 'not a PASETO v4.public token');
  const parts = token.slice(PASETO_V4_PUBLIC.length).split('.');
  if (parts.length > 2)
    throw new ResolutionError('TOKEN_MALFORMED', 'PASETO has at most a payload and a footer');
  const [body = '', footerSegment = ''] = parts;
  if (parts.length === 2 && footerSegment === '')
    throw new ResolutionError('TOKEN_MALFORMED', 'PASETO footer segment is empty');
  if (footerSegment.length > Math.ceil((MAX_PASETO_FOOTER_BYTES * 4) / 3))
    throw new ResolutionError(
      'TOKEN_MALFORMED',
      `PASETO footer exceeds ${MAX_PASETO_FOOTER_BYTES} bytes`,
    );
  const payload = canonical(body, 'payload');
  if (payload.length <= SIGNATURE_BYTES)
    throw new ResolutionError('TOKEN_MALFORMED', 'PASETO payload is shorter than its signature');
  const message = payload.subarray(0, payload.length - SIGNATURE_BYTES);
  const signature = payload.subarray(payload.length - SIGNATURE_BYTES);
  const footer = canonical(footerSegment, 'footer');
  const footerClaims = footer.length ? jsonObject(footer, 'footer') : undefined;
  const kid = footerClaims && Object.hasOwn(footerClaims, 'kid') ? footerClaims.kid : undefined;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > 256))
    throw new ResolutionError(
      'TOKEN_MALFORMED',
      'PASETO footer "kid" must be a string of at most 256 characters',
    );
  return {
    message,
    signature,
    footer,
    ...(footerClaims ? { footerClaims } : {}),
    ...(kid !== undefined ? { kid } : {}),
    claims: jsonObject(message, 'claims'),
  };
}

/**
 * RFC 3339 date-time, as PASETO's registered time claims carry it: a full date, `T`, a time with
 * optional fraction, and `Z` or a numeric offset.
 */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Seconds since the epoch of an RFC 3339 date-time, or undefined when the string is not one (a
 * day the month lacks, an hour past 23, an offset past 23:59, a year outside 1 to 9999 count as
 * not one).
 */
export function rfc3339Seconds(value: string): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction, z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (year < 1 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day < 1 || day > daysInMonth) return undefined;
  let offset = 0;
  if (!z) {
    const [offH, offM] = [Number(oh), Number(om)];
    if (offH > 23 || offM > 59) return undefined;
    offset = (sign === '-' ? -1 : 1) * (offH * 3600 + offM * 60);
  }
  const at = new Date(0);
  at.setUTCFullYear(year, month - 1, day);
  at.setUTCHours(hour, minute, second, 0);
  const seconds = at.getTime() / 1000 - offset + (fraction ? Number(`0${fraction}`) : 0);
  return seconds >= MIN_TIME_SECONDS && seconds <= MAX_TIME_SECONDS ? seconds : undefined;
}

/**
 * The claims in the JWT shape the claim, time, subject and tenant steps read: `exp`, `nbf` and
 * `iat` as seconds since the epoch. A time claim that is no RFC 3339 date-time keeps its value,
 * which the time step refuses (CLAIM_INVALID): a PASETO time is never a number.
 */
export function pasetoClaimsAsJwt(
  claims: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out = Object.assign(Object.create(null) as Record<string, unknown>, claims);
  for (const name of ['exp', 'nbf', 'iat']) {
    if (!Object.hasOwn(claims, name)) continue;
    const value = claims[name];
    const seconds = typeof value === 'string' ? rfc3339Seconds(value) : undefined;
    out[name] = seconds ?? (typeof value === 'number' ? `${value} (a number)` : value);
  }
  return out;
}

/** One issuer's v4.public keys and implicit assertion. */
export interface PasetoKey {
  readonly kid?: string;
  readonly key: KeyObject;
}

/** At most this many keys are tried for a token whose footer names no `kid`. */
const MAX_CANDIDATES = 4;

export class PasetoVerifier {
  private constructor(
    readonly keys: readonly PasetoKey[],
    private readonly implicitAssertion: Buffer,
    readonly maxFooterBytes: number,
  ) {}

  /** Reads the issuer's keys (PASERK k4.public or PEM Ed25519); a bad key stops the boot. */
  static async create(issuer: IssuerConfig): Promise<PasetoVerifier | undefined> {
    const policy: PasetoPolicy | undefined = issuer.paseto;
    if (!policy) return undefined;
    const keys: PasetoKey[] = [];
    for (const [i, k] of policy.keys.entries()) {
      const field = `${issuer.origin}.paseto.keys[${i}]`;
      let key: KeyObject;
      try {
        key = k.paserk
          ? paserkPublicKey(k.paserk)
          : createPublicKey(await readFile(k.file as string, 'utf8'));
      } catch (error) {
        throw new Error(`${field}: not an Ed25519 public key: ${(error as Error).message}`);
      }
      if (key.asymmetricKeyType !== 'ed25519')
        throw new Error(`${field}: a v4.public key is Ed25519, not ${key.asymmetricKeyType}`);
      keys.push({ ...(k.kid ? { kid: k.kid } : {}), key });
    }
    return new PasetoVerifier(
      keys,
      Buffer.from(policy.implicitAssertion, 'utf8'),
      policy.maxFooterBytes,
    );
  }

  /**
   * The keys that may have signed the token: the one the footer's `kid` names, or (no `kid`)
   * every key, at most {@link MAX_CANDIDATES}. SIGNING_KEY_NOT_FOUND when none; TOKEN_MALFORMED
   * for a footer over the issuer's bound.
   */
  candidates(token: PasetoToken, issuer: string): readonly PasetoKey[] {
    if (token.footer.length > this.maxFooterBytes)
      throw new ResolutionError(
        'TOKEN_MALFORMED',
        `PASETO footer exceeds ${this.maxFooterBytes} bytes for ${issuer}`,
      );
    const found =
      token.kid === undefined
        ? this.keys.slice(0, MAX_CANDIDATES)
        : this.keys.filter((k) => k.kid === token.kid);
    if (found.length === 0)
      throw new ResolutionError(
        'SIGNING_KEY_NOT_FOUND',
        `no v4.public key${token.kid ? ` with kid ${token.kid}` : ''} for ${issuer}`,
      );
    return found;
  }

  /** v4.public Verify: Ed25519 over PAE(header, message, footer, implicit assertion). */
  checkSignature(token: PasetoToken, candidates: readonly PasetoKey[]): void {
    const signed = pae(HEADER, token.message, token.footer, this.implicitAssertion);
    for (const { key } of candidates) if (verify(null, signed, key, token.signature)) return;
    throw new ResolutionError(
      'SIGNATURE_INVALID',
      'PASETO v4.public signature verification failed',
    );
  }
}

/** A PASERK `k4.public.<base64url 32 bytes>` as an Ed25519 public key. */
export function paserkPublicKey(paserk: string): KeyObject {
  const prefix = 'k4.public.';
  if (!paserk.startsWith(prefix)) throw new Error('not a PASERK k4.public key');
  const raw = Buffer.from(paserk.slice(prefix.length), 'base64url');
  if (raw.length !== 32 || raw.toString('base64url') !== paserk.slice(prefix.length))
    throw new Error('a k4.public key is 32 bytes of canonical base64url');
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/** The PASERK `k4.public` of an Ed25519 public key (what the dev issuer prints). */
export function toPaserk(key: KeyObject): string {
  const { x } = key.export({ format: 'jwk' });
  return `k4.public.${x as string}`;
}
