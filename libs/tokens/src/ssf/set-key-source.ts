import type { Clock } from '@resolver/observability';
import type { SsfTransmitterConfig } from '@resolver/config';
import {
  type FetchDocument,
  type FetchObserver,
  fetchJson,
  type KeySource,
  RemoteJwksSource,
} from '../key-source';
import {
  ssfConfigurationUrl,
  type TransmitterMetadata,
  transmitterMetadataOf,
} from '../transmitter/ssf-discovery';

/**
 * Reads the transmitter's discovery document through the issuers' document fetcher and checks
 * it with the same rules as stream management ({@link transmitterMetadataOf}).
 */
export async function fetchTransmitterMetadata(
  issuer: string,
  timeoutMs: number,
  fetchDocument: FetchDocument = fetchJson,
): Promise<TransmitterMetadata> {
  const url = ssfConfigurationUrl(issuer);
  return transmitterMetadataOf(issuer, await fetchDocument(url, timeoutMs), url);
}

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
