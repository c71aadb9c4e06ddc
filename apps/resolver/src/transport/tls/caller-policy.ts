import type { PeerCertificate } from 'node:tls';
import type { CallerConfig, Surface, TlsConfig } from '@resolver/config';

/** What a connection's client certificate established, decided once per connection. */
export type Peer =
  /** No certificate (or a listener without TLS or without client certificates). */
  | { readonly kind: 'anonymous' }
  /** A valid certificate that no configured caller names. */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'caller'; readonly name: string; readonly surfaces: ReadonlySet<Surface> };

export const ANONYMOUS: Peer = Object.freeze({ kind: 'anonymous' });
export const UNKNOWN: Peer = Object.freeze({ kind: 'unknown' });

/** Why a request was refused for who called it (a label of `resolver_tls_refusals_total`). */
export type CallerRefusal = 'caller_anonymous' | 'caller_unknown' | 'caller_not_allowed';
export const CALLER_REFUSALS: readonly CallerRefusal[] = [
  'caller_anonymous',
  'caller_unknown',
  'caller_not_allowed',
];

/**
 * Request headers by which a gateway forwards its own client's certificate (Envoy's XFCC,
 * RFC 9440, nginx and Traefik conventions). Only a caller allowed `forwarded-certificate` may
 * send one: from anyone else it would be a claim about a certificate nobody checked.
 */
export const FORWARDED_CERTIFICATE_HEADERS = [
  'x-forwarded-client-cert',
  'client-cert',
  'client-cert-chain',
  'ssl-client-cert',
  'x-ssl-client-cert',
  'x-client-cert',
  'x-forwarded-tls-client-cert',
] as const;

/**
 * The subject alternative names of a certificate as Node prints them (`DNS:a, URI:b`), one
 * entry each. Node quotes a value holding a comma, quote or other special character as a JSON
 * string, so `DNS:"a, DNS:b"` is one name, never two. Anything unexpected yields no names at
 * all: a certificate that cannot be read is matched by nothing.
 */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  let at = 0;
  while (at < text.length) {
    const colon = text.indexOf(':', at);
    if (colon < 0) return [];
    const type = text.slice(at, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) return [];
      try {
        value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      } catch {
        return [];
      }
      next = end + 1;
    } else {
      const comma = text.indexOf(', ', colon + 1);
      next = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, next);
    }
    names.push(`${type}:${value}`);
    if (next === text.length) break;
    if (!text.startsWith(', ', next)) return [];
    at = next + 2;
  }
  return names;
}

/** DNS names compare without case; every other kind byte for byte. */
function sameName(configured: string, presented: string): boolean {
  if (configured.startsWith('DNS:') && presented.startsWith('DNS:'))
    return configured.toLowerCase() === presented.toLowerCase();
  return configured === presented;
}

function matches(caller: CallerConfig, certificate: PeerCertificate, sans: string[]): boolean {
  const subject = certificate.subject as unknown as Record<string, unknown> | undefined;
  for (const [attribute, expected] of Object.entries(caller.subject ?? {})) {
    // A multi-valued attribute (an array) never equals one configured value.
    if (!subject || !Object.hasOwn(subject, attribute) || subject[attribute] !== expected)
      return false;
  }
  if (caller.san && !caller.san.some((name) => sans.some((san) => sameName(name, san))))
    return false;
  return true;
}

/**
 * Which caller a valid client certificate is, and which surface each caller may use. A
 * certificate that several callers name gets the union of their surfaces.
 */
export class CallerPolicy {
  private readonly open: ReadonlySet<Surface>;

  constructor(private readonly config: Pick<TlsConfig, 'callers' | 'openSurfaces'>) {
    this.open = new Set(config.openSurfaces);
  }

  /** Whether surfaces are reserved to callers at all. */
  get enforced(): boolean {
    return this.config.callers.length > 0;
  }

  /** The peer a certificate the listener's CAs vouched for makes. */
  identify(certificate: PeerCertificate | undefined): Peer {
    if (!certificate || !certificate.raw) return ANONYMOUS;
    const sans = subjectAltNames(certificate.subjectaltname);
    const named = this.config.callers.filter((c) => matches(c, certificate, sans));
    if (!named.length) return UNKNOWN;
    return {
      kind: 'caller',
      name: named.map((c) => c.name).join('+'),
      surfaces: new Set(named.flatMap((c) => c.surfaces)),
    };
  }

  /**
   * Why `peer` may not use `surface`, or undefined when it may. `undefined` as the surface is a
   * route nobody mapped to one: refused to everyone (a new route must be given its surface).
   */
  refusal(peer: Peer, surface: Surface | undefined): CallerRefusal | undefined {
    if (!this.enforced) return undefined;
    if (surface !== undefined && this.open.has(surface)) return undefined;
    if (peer.kind === 'anonymous') return 'caller_anonymous';
    if (peer.kind === 'unknown') return 'caller_unknown';
    return surface !== undefined && peer.surfaces.has(surface) ? undefined : 'caller_not_allowed';
  }
}
