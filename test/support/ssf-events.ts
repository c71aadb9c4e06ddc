import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import type { SigningKey } from './token-factory';

/*
 * The SETs of the Shared Signals transmitter fixture (ssf-transmitter.ts): event types, minting
 * (RFC 8417 with RFC 9493 subjects), push (RFC 8935), and the fixture's small HTTP helpers.
 */

/** Delivery method URNs (SSF 1.0 §7.1.1 / RFC 8935 / RFC 8936). */
export const PUSH = 'urn:ietf:rfc:8935';
export const POLL = 'urn:ietf:rfc:8936';

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';
const SSF = 'https://schemas.openid.net/secevent/ssf/event-type/';

/** Event type URIs by short name, as a transmitter sends them. */
export const EVENT_TYPES = {
  'session-revoked': `${CAEP}session-revoked`,
  'credential-change': `${CAEP}credential-change`,
  'token-claims-change': `${CAEP}token-claims-change`,
  'assurance-level-change': `${CAEP}assurance-level-change`,
  'device-compliance-change': `${CAEP}device-compliance-change`,
  'risk-level-change': `${CAEP}risk-level-change`,
  'account-disabled': `${RISC}account-disabled`,
  'account-enabled': `${RISC}account-enabled`,
  'account-purged': `${RISC}account-purged`,
  'credential-compromise': `${RISC}credential-compromise`,
  'account-credential-change-required': `${RISC}account-credential-change-required`,
  'identifier-changed': `${RISC}identifier-changed`,
  'identifier-recycled': `${RISC}identifier-recycled`,
  verification: `${SSF}verification`,
  'stream-updated': `${SSF}stream-updated`,
} as const;

/** A subject identifier (RFC 9493), as loose as a transmitter may send it. */
export type SubjectId = Record<string, unknown> & { format: string };

export interface MintOptions {
  /** Defaults to the stream's audience (or the transmitter's default audience). */
  readonly aud?: string | string[];
  readonly iss?: string;
  readonly jti?: string;
  /** Seconds since epoch (default now). */
  readonly iat?: number;
  readonly txn?: string;
  /** Where the subject goes: SSF 1.0's top-level `sub_id` (default) or the event's `subject`. */
  readonly subjectIn?: 'sub_id' | 'event';
  /** Extra or overriding protected-header parameters (`typ: undefined` drops it). */
  readonly header?: Record<string, unknown>;
  /** Signs with another key (a forged SET). */
  readonly key?: SigningKey;
  /** Extra top-level claims, merged last (`events` with two members, for instance). */
  readonly claims?: Record<string, unknown>;
}

export interface EventSpec {
  /** A short name from {@link EVENT_TYPES} or a full event type URI. */
  readonly type: keyof typeof EVENT_TYPES | (string & {});
  readonly subject: SubjectId;
  /** The event's own members (`event_timestamp` defaults to now, `reason_admin`, …). */
  readonly payload?: Record<string, unknown>;
}

/** Stream events: delivered whatever the stream's status. */
export const CONTROL_EVENTS = { verification: true, 'stream-updated': true };

const MAX_BODY = 1_048_576;

/**
 * Signs a SET (RFC 8417: `typ` secevent+jwt) carrying exactly one event (unless `claims.events`
 * says otherwise), with the subject (RFC 9493) in `sub_id` or, as earlier drafts did, in the event.
 */
export async function mintSet(
  signer: SigningKey,
  defaults: { readonly iss: string; readonly aud: string | string[] },
  event: EventSpec,
  options: MintOptions = {},
): Promise<{ jti: string; set: string }> {
  const jti = options.jti ?? randomUUID();
  const type =
    event.type in EVENT_TYPES ? EVENT_TYPES[event.type as keyof typeof EVENT_TYPES] : event.type;
  const payload: Record<string, unknown> = {
    event_timestamp: Math.floor(Date.now() / 1000),
    ...event.payload,
  };
  const claims: Record<string, unknown> = {
    iss: options.iss ?? defaults.iss,
    aud: options.aud ?? defaults.aud,
    jti,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.txn === undefined ? {} : { txn: options.txn }),
  };
  if (options.subjectIn === 'event') payload.subject = event.subject;
  else claims.sub_id = event.subject;
  claims.events = { [type]: payload };
  Object.assign(claims, options.claims);
  const key = options.key ?? signer;
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'secevent+jwt' };
  for (const [name, value] of Object.entries(options.header ?? {})) {
    if (value === undefined) delete header[name];
    else header[name] = value;
  }
  const set = await new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .sign(key.privateKey);
  return { jti, set };
}

/** Pushes a SET to a receiver (RFC 8935): the response's status and parsed body. */
export async function pushSet(
  url: string,
  set: string,
  authorization: string | undefined,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    'content-type': 'application/secevent+jwt',
    accept: 'application/json',
  };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(url, { method: 'POST', headers, body: set, redirect: 'error' });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('body is not a JSON object');
  return parsed as Record<string, unknown>;
}
