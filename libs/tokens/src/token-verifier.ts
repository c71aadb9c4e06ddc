import type { IssuerConfig, ResolverConfig } from '@resolver/config';
import type { Clock, Tracing } from '@resolver/observability';
import { ResolutionError } from '@resolver/reasons';
import { decodeCompactToken, type DecodedToken } from './compact-token';
import { JweDecryptor } from './formats/jwe';
import { PasetoVerifier } from './formats/paseto';
import { IssuerVerifier } from './issuer-verifier';
import {
  discoveryLocator,
  type FetchDocument,
  fetchJson,
  type FetchObserver,
  HmacKeySource,
  type KeySource,
  loadKeyFiles,
  RemoteJwksSource,
  StaticKeySource,
  tracedFetch,
} from './key-source';
import type { VerifiedToken } from './verified-token';
import {
  type IntrospectionClient,
  introspectionClientFor,
  postForm,
  signedAnswerVerifier,
  tracedPostForm,
} from './introspection';

/**
 * The issuer registry and the verification entry point. The issuer is picked by the token's
 * unverified `iss` with an exact string match, before any key is fetched: an unknown issuer costs
 * no network and no crypto.
 */
export class TokenVerifier {
  private constructor(
    private readonly byIssuer: ReadonlyMap<string, IssuerVerifier>,
    private readonly maxTokenBytes: number,
    /** Encrypted JWTs: the configured decryption keys, by `kid`, each its issuer's. */
    readonly jwe: JweDecryptor,
    /** The issuers that introspect opaque tokens, in config order. */
    private readonly introspecting: readonly IntrospectionClient[] = [],
  ) {}

  /** Builds the registry; reads key files now so a bad key file stops the boot. */
  static async create(
    config: Pick<ResolverConfig, 'issuers' | 'limits'>,
    clock: Clock,
    observe?: FetchObserver,
    /** With tracing on, IdP fetches are client spans and carry the request's `traceparent`. */
    tracing?: Tracing,
  ): Promise<TokenVerifier> {
    const byIssuer = new Map<string, IssuerVerifier>();
    const fetchDocument = tracing?.on ? tracedFetch(tracing) : fetchJson;
    const introspecting: IntrospectionClient[] = [];
    const send = tracing?.on ? tracedPostForm(tracing) : postForm;
    for (const issuer of config.issuers) {
      const verifier = new IssuerVerifier(
        issuer,
        await keySourceFor(issuer, clock, fetchDocument, observe),
        clock,
        await PasetoVerifier.create(issuer),
      );
      byIssuer.set(issuer.issuer, verifier);
      const client = await introspectionClientFor(
        issuer,
        clock,
        fetchDocument,
        send,
        issuer.introspection &&
          signedAnswerVerifier(verifier, issuer.introspection.clientAuth.clientId),
      );
      if (client) introspecting.push(client);
    }
    return new TokenVerifier(
      byIssuer,
      config.limits.maxTokenBytes,
      JweDecryptor.create(config.issuers),
      introspecting,
    );
  }

  /**
   * The one issuer an opaque token is sent to for introspection, by the configured rule: the
   * issuer whose `introspection.prefix` it starts with, or the only introspecting issuer when it
   * declares none (config refuses overlapping prefixes, and more than one issuer without one).
   * Undefined: no issuer introspects it, and it is sent nowhere.
   */
  introspectorFor(token: string): IntrospectionClient | undefined {
    return this.introspecting.find((client) => client.accepts(token));
  }

  /** Every introspecting issuer's client (readiness, diagnosis). */
  introspectors(): readonly IntrospectionClient[] {
    return this.introspecting;
  }

  /** Verifies a compact JWT or throws a {@link ResolutionError} with the precise reason. */
  async verify(token: string): Promise<VerifiedToken> {
    const decoded = this.decode(token);
    return this.select(decoded).verify(token, decoded);
  }

  /** Checks size and shape and decodes header and payload, trusting nothing yet. */
  decode(token: string): DecodedToken {
    return decodeCompactToken(token, this.maxTokenBytes);
  }

  /** The configured issuer named by the unverified `iss`; throws `ISSUER_UNKNOWN`. */
  select(decoded: DecodedToken): IssuerVerifier {
    const iss = decoded.payload.iss;
    const verifier = typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
    if (!verifier) throw new ResolutionError('ISSUER_UNKNOWN', 'token issuer is not configured');
    return verifier;
  }

  /** The verifier of one configured issuer, for readiness and diagnosis. */
  issuer(iss: string): IssuerVerifier | undefined {
    return this.byIssuer.get(iss);
  }

  issuers(): IssuerVerifier[] {
    return [...this.byIssuer.values()];
  }
}

async function keySourceFor(
  issuer: IssuerConfig,
  clock: Clock,
  fetchDocument: FetchDocument,
  observe?: FetchObserver,
): Promise<KeySource> {
  const source = issuer.keySource;
  switch (source.kind) {
    case 'discovery':
      return new RemoteJwksSource(
        issuer.issuer,
        discoveryLocator(issuer.issuer, issuer.jwks.timeoutMs, fetchDocument),
        issuer.jwks,
        clock,
        observe,
        'discovery',
        fetchDocument,
      );
    case 'jwks':
      return new RemoteJwksSource(
        issuer.issuer,
        () => Promise.resolve(source.uri),
        issuer.jwks,
        clock,
        observe,
        'jwks',
        fetchDocument,
      );
    case 'files':
      return new StaticKeySource('files', await loadKeyFiles(source.paths, issuer.origin));
    case 'jwks-inline':
      return new StaticKeySource('jwks-inline', source.keys);
    case 'hmac':
      return new HmacKeySource(source.secret);
  }
}
