import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import {
  type ForwardedCertificateConfig,
  type ForwardedCertificateFormat,
  parseCidr,
} from '@resolver/config';

/** Why a forwarded certificate was believed. */
export type ForwardedCertificateTrustBasis =
  /** The TLS `callers` allow the connection's client certificate `forwarded-certificate`. */
  | 'caller'
  /** The connection comes from one of `trustedSources`. */
  | 'source'
  /** The request carries the shared secret in `secretHeader`. */
  | 'secret';

/** What a transport knows about who sent a request, for the trust decision. */
export interface ForwardingPeer {
  /** The TCP peer's address (`127.0.0.1`, `::1`, `::ffff:10.0.0.1`), when known. */
  readonly remoteAddress?: string;
  /** Whether the TLS caller policy lets this connection's certificate forward certificates. */
  readonly callerMayForward: boolean;
  /** The value of the configured `secretHeader`, when the request has one. */
  readonly secret?: string;
}

/** Longer than any secret the config accepts a hundredfold: refused before hashing. */
const MAX_SECRET_CHARS = 4_096;

/**
 * Whom the resolver believes about a forwarded client certificate. Certificates are public, so
 * a header naming one proves nothing unless whoever set it checked the client's TLS handshake:
 * a gateway the resolver knows (by its client certificate, its address, or a secret only it
 * has). A request from anyone else has its forwarded certificate dropped unread, and a token
 * bound to a certificate then fails for want of one.
 */
export class ForwardedCertificateTrust {
  private readonly sources = new BlockList();
  private readonly anySource: boolean;

  constructor(private readonly config: ForwardedCertificateConfig | undefined) {
    for (const text of config?.trustedSources ?? []) {
      const cidr = parseCidr(text);
      // The config schema admits only parsable blocks; a bad one here trusts nothing.
      if (cidr) this.sources.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
    this.anySource = (config?.trustedSources.length ?? 0) > 0;
  }

  /** Whether any forwarded certificate is read at all. */
  get enabled(): boolean {
    return this.config !== undefined;
  }

  /** The header the certificate arrives in (lowercase) and its format, when configured. */
  get header(): { readonly name: string; readonly format: ForwardedCertificateFormat } | undefined {
    const { header, format } = this.config ?? {};
    return header === undefined || format === undefined ? undefined : { name: header, format };
  }

  /** The header the shared secret arrives in (lowercase), when configured. */
  get secretHeader(): string | undefined {
    return this.config?.secretHeader;
  }

  /** Why `peer` is believed, or undefined: then its forwarded certificate is ignored. */
  basis(peer: ForwardingPeer): ForwardedCertificateTrustBasis | undefined {
    if (!this.config) return undefined;
    if (peer.callerMayForward) return 'caller';
    if (this.anySource && peer.remoteAddress !== undefined && this.fromSource(peer.remoteAddress))
      return 'source';
    if (this.secretMatches(peer.secret)) return 'secret';
    return undefined;
  }

  private fromSource(address: string): boolean {
    const version = isIP(address);
    if (version === 0) return false;
    // BlockList matches an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) against IPv4 blocks.
    return this.sources.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }

  /** The presented secret against the configured one's sha256, in constant time. */
  private secretMatches(secret: string | undefined): boolean {
    const expected = this.config?.secretSha256;
    if (!expected || secret === undefined || secret.length > MAX_SECRET_CHARS) return false;
    const presented = createHash('sha256').update(secret, 'utf8').digest();
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  }
}
