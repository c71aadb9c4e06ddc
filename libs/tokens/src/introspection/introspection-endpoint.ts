import type { IssuerConfig } from '@resolver/config';
import { type Clock, errorType, SpanKind, type Tracing } from '@resolver/observability';
import { type FetchDocument, fetchJson } from '../key-source';
import { clientAuthenticator } from './client-auth';
import { IntrospectionClient, postForm, type SendForm } from './introspection-client';
import type { VerifySignedAnswer } from './signed-answer';

/**
 * The endpoint an issuer's tokens are introspected at: the configured one, or the
 * `introspection_endpoint` of the issuer's own OIDC discovery document (whose `issuer` must be
 * exactly this issuer, as for its keys). Asked once; a failure is asked again on the next call.
 */
export function introspectionEndpoint(
  issuer: IssuerConfig,
  fetchDocument: FetchDocument = fetchJson,
): () => Promise<string> {
  const configured = issuer.introspection?.endpoint;
  if (configured !== undefined) return () => Promise.resolve(configured);
  let found: string | undefined;
  return async () => {
    if (found) return found;
    const url = `${issuer.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = (await fetchDocument(url, issuer.jwks.timeoutMs)) as Record<string, unknown>;
    if (doc.issuer !== issuer.issuer)
      throw new Error(
        `discovery document issuer ${JSON.stringify(doc.issuer)} is not ${issuer.issuer}`,
      );
    const endpoint = doc.introspection_endpoint;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint))
      throw new Error('discovery document has no http(s) introspection_endpoint');
    found = endpoint;
    return found;
  };
}

/**
 * {@link postForm} with tracing on: a client span per introspection request (`POST`, the
 * configured endpoint's URL; never the token, which is only in the body), whose `traceparent`
 * goes to the endpoint with the request.
 */
export function tracedPostForm(tracing: Tracing): SendForm {
  return (url, headers, form, limits) =>
    tracing.within(
      'POST',
      SpanKind.CLIENT,
      { 'http.request.method': 'POST', 'url.full': url, 'server.address': new URL(url).hostname },
      () => postForm(url, tracing.inject({ ...headers }) as Record<string, string>, form, limits),
      errorType,
    );
}

/** The introspection client of an issuer that has an `introspection` section (boot: keys read). */
export async function introspectionClientFor(
  issuer: IssuerConfig,
  clock: Clock,
  fetchDocument: FetchDocument = fetchJson,
  send: SendForm = postForm,
  verifySigned?: VerifySignedAnswer,
): Promise<IntrospectionClient | undefined> {
  const config = issuer.introspection;
  if (config === undefined) return undefined;
  return new IntrospectionClient(
    issuer.issuer,
    config,
    introspectionEndpoint(issuer, fetchDocument),
    await clientAuthenticator(config.clientAuth, issuer.origin),
    clock,
    send,
    verifySigned,
  );
}
