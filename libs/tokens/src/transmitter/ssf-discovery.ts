import {
  isObject,
  member,
  TransmitterError,
  type TransmitterFetch,
  transmitterFetch,
} from './transmitter-http';

/** Delivery method URNs (SSF 1.0 §7.1.1). */
export const SSF_PUSH_METHOD = 'urn:ietf:rfc:8935';
export const SSF_POLL_METHOD = 'urn:ietf:rfc:8936';

/** The discovery document's issuer is not the configured one: nothing of it is used. */
export class IssuerMismatchError extends TransmitterError {
  constructor(
    readonly configured: string,
    readonly announced: unknown,
  ) {
    super(
      'malformed',
      `the transmitter's discovery document names issuer ${JSON.stringify(announced)}, not ${configured}`,
    );
  }
}

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
 * Reads and checks the transmitter's metadata (stream management and the poller, with
 * {@link discoverTransmitter}; the receiver's key source, for `jwks_uri`): the one place these
 * checks are made. Its `issuer` must equal the configured one exactly (otherwise another
 * transmitter's keys and endpoints could be trusted); every endpoint it names must be an http(s)
 * URL; unknown members are ignored; members are read as own data only.
 */
export function transmitterMetadataOf(
  issuer: string,
  body: unknown,
  url: string,
): TransmitterMetadata {
  if (!isObject(body))
    throw new TransmitterError('malformed', `GET ${url}: the document is not a JSON object`);
  const announced = member(body, 'issuer');
  if (announced !== issuer) throw new IssuerMismatchError(issuer, announced);
  const methods = member(body, 'delivery_methods_supported');
  return {
    issuer,
    jwksUri: endpoint(body, 'jwks_uri', url),
    deliveryMethodsSupported: Array.isArray(methods)
      ? methods.filter((m): m is string => typeof m === 'string')
      : [],
    configurationEndpoint: endpoint(body, 'configuration_endpoint', url),
    statusEndpoint: endpoint(body, 'status_endpoint', url),
    verificationEndpoint: endpoint(body, 'verification_endpoint', url),
  };
}

/** Fetches (bounded, no redirects, strict JSON) and checks the transmitter's metadata. */
export async function discoverTransmitter(
  issuer: string,
  timeoutMs: number,
  fetchJson: TransmitterFetch = transmitterFetch,
): Promise<TransmitterMetadata> {
  const url = ssfConfigurationUrl(issuer);
  const { body } = await fetchJson({ method: 'GET', url, timeoutMs });
  return transmitterMetadataOf(issuer, body, url);
}

function endpoint(doc: Record<string, unknown>, name: string, url: string): string | undefined {
  const value = member(doc, name);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !isHttpUrl(value))
    throw new TransmitterError('malformed', `GET ${url}: ${name} is not an http(s) URL`);
  return value;
}

export function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (
      (u.protocol === 'https:' || u.protocol === 'http:') && u.username === '' && u.password === ''
    );
  } catch {
    return false;
  }
}
