import type { Clock } from '@resolver/observability';
import type { SsfTransmitterConfig } from '@resolver/config';
import {
  type FetchDocument,
  type FetchObserver,
  fetchJson,
  type KeySource,
  RemoteJwksSource,
} from '../key-source';

/** What SSF discovery (`/.well-known/ssf-configuration`, SSF 1.0 §7.1) says, the URLs checked. */
export interface TransmitterMetadata {
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly configurationEndpoint?: string;
  readonly statusEndpoint?: string;
  readonly verificationEndpoint?: string;
  readonly deliveryMethodsSupported: readonly string[];
}

/**
 * The discovery document's URL: `/.well-known/ssf-configuration` inserted between the issuer's
 * host and its path (SSF 1.0 §7.2, as RFC 8414 does for OAuth metadata).
 */
export function ssfConfigurationUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.origin}/.well-known/ssf-configuration${path}`;
}

/**
 * Reads and checks the transmitter's discovery document: its `issuer` must equal the configured
 * one exactly (another transmitter's keys are never trusted), its URLs must be http(s).
 */
export async function fetchTransmitterMetadata(
  issuer: string,
  timeoutMs: number,
  fetchDocument: FetchDocument = fetchJson,
): Promise<TransmitterMetadata> {
  const doc = (await fetchDocument(ssfConfigurationUrl(issuer), timeoutMs)) as Record<
    string,
    unknown
  >;
  if (typeof doc !== 'object' || doc === null)
    throw new Error('SSF configuration is not an object');
  const get = (name: string) => (Object.hasOwn(doc, name) ? doc[name] : undefined);
  if (get('issuer') !== issuer)
    throw new Error(
      `SSF configuration issuer ${JSON.stringify(get('issuer'))} does not equal ${issuer}`,
    );
  const url = (name: string): string | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^https?:\/\//.test(v))
      throw new Error(`SSF configuration "${name}" is not an http(s) URL`);
    return v;
  };
  const methods = get('delivery_methods_supported');
  return {
    issuer,
    jwksUri: url('jwks_uri'),
    configurationEndpoint: url('configuration_endpoint'),
    statusEndpoint: url('status_endpoint'),
    verificationEndpoint: url('verification_endpoint'),
    deliveryMethodsSupported: Array.isArray(methods)
      ? methods.filter((m): m is string => typeof m === 'string')
      : [],
  };
}

/**
 * The transmitter's signing keys through the issuers' JWKS machinery (RemoteJwksSource):
 * `jwksUri`, or the `jwks_uri` of its discovery document (read once, then kept).
 */
export function transmitterKeySource(
  transmitter: SsfTransmitterConfig,
  clock: Clock,
  observe?: FetchObserver,
  fetchDocument: FetchDocument = fetchJson,
): KeySource {
  let located: string | undefined = transmitter.jwksUri;
  const locate = async (): Promise<string> => {
    if (located) return located;
    const metadata = await fetchTransmitterMetadata(
      transmitter.issuer,
      transmitter.jwks.timeoutMs,
      fetchDocument,
    );
    if (!metadata.jwksUri) throw new Error('SSF configuration has no jwks_uri');
    located = metadata.jwksUri;
    return located;
  };
  return new RemoteJwksSource(
    transmitter.issuer,
    locate,
    transmitter.jwks,
    clock,
    observe,
    transmitter.discovery ? 'discovery' : 'jwks',
    fetchDocument,
  );
}
