/** A token taken apart in the page, like jwt.io, before anything is sent anywhere. */
export interface DecodedToken {
  readonly header: Record<string, unknown> | undefined;
  readonly payload: Record<string, unknown> | undefined;
  /** Length in bytes of the signature segment: the signature itself is never shown. */
  readonly signatureBytes: number;
  /** Why a part could not be read, for the operator. */
  readonly problems: readonly string[];
  /** The format by shape, as the resolver's format step decides it. */
  readonly format: 'jws' | 'jwe' | 'paseto' | 'other';
  /** What the page cannot show and why (a JWE's payload is encrypted). */
  readonly note?: string;
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

/** A PASETO v4.public token: its claims (message) and footer; the 64-byte signature counted. */
function decodePaseto(token: string): DecodedToken {
  const problems: string[] = [];
  const [body = '', footer] = token.slice('v4.public.'.length).split('.');
  let payload: Record<string, unknown> | undefined;
  let bytes: Uint8Array = new Uint8Array();
  try {
    bytes = base64UrlBytes(body);
  } catch {
    problems.push('the payload is not base64url');
  }
  if (bytes.length > 64) {
    const text = new TextDecoder().decode(bytes.subarray(0, bytes.length - 64));
    payload = jsonSegment(base64Url(text), 'payload', problems);
  } else if (!problems.length) problems.push('the payload is shorter than its signature');
  const footerJson = footer ? jsonSegment(footer, 'footer', problems) : undefined;
  return {
    header: { version: 'v4.public', ...(footerJson ? { footer: footerJson } : {}) },
    payload,
    signatureBytes: bytes.length > 64 ? 64 : 0,
    problems,
    format: 'paseto',
  };
}

function base64Url(text: string): string {
  const binary = String.fromCharCode(...new TextEncoder().encode(text));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes a token (a leading `Bearer ` is tolerated): a compact JWS, the protected header of a
 * JWE (its payload is encrypted), or a PASETO v4.public token. Never verifies: the server does.
 */
export function decodeToken(input: string): DecodedToken {
  const token = input.trim().replace(/^Bearer\s+/i, '');
  const paseto = /^v(\d{1,3})\.([a-z]{1,16})\./.exec(token);
  if (paseto) {
    if (token.startsWith('v4.public.')) return decodePaseto(token);
    return {
      header: undefined,
      payload: undefined,
      signatureBytes: 0,
      problems: [`PASETO v${paseto[1]}.${paseto[2]} is not accepted: only v4.public`],
      format: 'other',
    };
  }
  const parts = token.split('.');
  if (parts.length === 5) {
    const problems: string[] = [];
    return {
      header: jsonSegment(parts[0], 'header', problems),
      payload: undefined,
      signatureBytes: 0,
      problems,
      format: 'jwe',
      note: 'An encrypted JWT (JWE): its claims are encrypted and only the resolver can read them; the diagnosis below shows what it found after decrypting.',
    };
  }
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
  return {
    header,
    payload,
    signatureBytes,
    problems,
    format: parts.length === 3 ? 'jws' : 'other',
  };
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
