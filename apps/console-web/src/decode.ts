/** A token taken apart in the page, like jwt.io, before anything is sent anywhere. */
export interface DecodedToken {
  readonly header: Record<string, unknown> | undefined;
  readonly payload: Record<string, unknown> | undefined;
  /** Length in bytes of the signature segment: the signature itself is never shown. */
  readonly signatureBytes: number;
  /** Why a part could not be read, for the operator. */
  readonly problems: readonly string[];
}

/** A time claim shown absolute (UTC) and relative to now. */
export interface TimeClaim {
  readonly claim: string;
  readonly label: string;
  readonly absolute: string;
  readonly relative: string;
}

const TIME_CLAIMS: readonly [string, string][] = [
  ['iat', 'Issued'],
  ['nbf', 'Not before'],
  ['exp', 'Expires'],
  ['auth_time', 'Authenticated'],
];

function base64UrlBytes(segment: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new Error('not base64url');
  const b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function jsonSegment(segment: string | undefined, name: string, problems: string[]) {
  if (!segment) {
    problems.push(`the ${name} segment is empty`);
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(base64UrlBytes(segment)),
    );
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
    problems.push(`the ${name} is not a JSON object`);
  } catch {
    problems.push(`the ${name} is not base64url-encoded JSON`);
  }
  return undefined;
}

/** Decodes a compact JWS (a leading `Bearer ` is tolerated). Never verifies: the server does. */
export function decodeToken(input: string): DecodedToken {
  const token = input.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  const problems: string[] = [];
  if (parts.length !== 3)
    problems.push(`a compact JWT has 3 dot-separated parts, this has ${parts.length}`);
  const header = jsonSegment(parts[0], 'header', problems);
  const payload = parts.length > 1 ? jsonSegment(parts[1], 'payload', problems) : undefined;
  let signatureBytes = 0;
  try {
    signatureBytes = base64UrlBytes(parts[2] ?? '').length;
  } catch {
    problems.push('the signature is not base64url');
  }
  return { header, payload, signatureBytes, problems };
}

/** "in 5 min", "3 h ago": the distance from `now`, in the largest unit that fits. */
export function relativeTime(at: Date, now: Date): string {
  const seconds = Math.round((at.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  const units: [number, string][] = [
    [86_400, 'd'],
    [3_600, 'h'],
    [60, 'min'],
    [1, 's'],
  ];
  if (abs < 1) return 'now';
  const [size, unit] = units.find(([s]) => abs >= s) as [number, string];
  const n = Math.floor(abs / size);
  return seconds > 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/** An instant as the admin API and the logs write it (UTC, seconds). */
export function absoluteTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The payload's time claims (numeric dates only), absolute and relative to `now`. */
export function timeClaims(payload: Record<string, unknown> | undefined, now: Date): TimeClaim[] {
  return TIME_CLAIMS.flatMap(([claim, label]) => {
    const value = payload?.[claim];
    if (typeof value !== 'number' || !Number.isFinite(value)) return [];
    const at = new Date(value * 1000);
    if (Number.isNaN(at.getTime())) return [];
    return [{ claim, label, absolute: absoluteTime(at), relative: relativeTime(at, now) }];
  });
}
