import { ResolutionError } from '@resolver/reasons';
import { htuForm, requestUri } from '@resolver/tokens';
import type { PresentedRequest } from './resolution';

/** Bounds on what a caller may say about the request (a proof is bounded by its policy). */
const MAX_METHOD = 32;
const MAX_URI = 8192;
const MAX_PROOF = 16_384;
const MAX_CERTIFICATE = 16_384;
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const refuse = (field: string, what: string) =>
  new ResolutionError('PROOF_INVALID', `the ${field} field ${what}`);

function text(field: string, value: unknown, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw refuse(field, 'must be a string');
  if (value.length > max) throw refuse(field, `exceeds ${max} characters`);
  return value;
}

/**
 * The request as a backend describes it in a resolve call (POST /v1/resolve's body, the
 * ResolveSubject message): each optional field type-checked and bounded, naming the field it
 * refuses (PROOF_INVALID). `dpopHeader` is the `DPoP` header of the resolve call itself, used
 * when the body names no proof (a backend that forwards the client's headers).
 */
export function presentedFromFields(
  fields: {
    readonly dpopProof?: unknown;
    readonly method?: unknown;
    readonly uri?: unknown;
    readonly clientCertificate?: unknown;
  },
  dpopHeader?: string,
): PresentedRequest {
  const method = text('method', fields.method, MAX_METHOD);
  if (method !== undefined && !METHOD.test(method)) throw refuse('method', 'is not an HTTP method');
  return {
    method,
    uri: text('uri', fields.uri, MAX_URI),
    dpop:
      text('dpopProof', fields.dpopProof, MAX_PROOF) ?? text('DPoP header', dpopHeader, MAX_PROOF),
    clientCertificate: text('clientCertificate', fields.clientCertificate, MAX_CERTIFICATE),
  };
}

/**
 * The request as a forward-auth gateway describes it in headers: Traefik's
 * `X-Forwarded-Method/-Proto/-Host/-Uri` or nginx's `X-Original-Method` / `X-Original-URL`
 * (set by its `proxy_set_header`), and the client's `DPoP` header. Each gateway overwrites its
 * own headers and may pass the other set through from the client, so a value the two sets both
 * give must agree: a client cannot steer `htm`/`htu` with the set its gateway does not write
 * (PROOF_INVALID). A set that cannot form a value (a lone X-Forwarded-Uri) gives none.
 */
export function presentedFromForwardedHeaders(
  header: (name: string) => string | undefined,
): PresentedRequest {
  const methods = [header('x-original-method'), header('x-forwarded-method')].filter(
    (m): m is string => m !== undefined && m !== '',
  );
  if (methods.length === 2 && methods[0] !== methods[1])
    throw new ResolutionError(
      'PROOF_INVALID',
      'the forwarded request headers disagree on the method (X-Original-Method vs X-Forwarded-Method)',
    );
  const original = header('x-original-url');
  const forwarded = requestUri(
    header('x-forwarded-proto'),
    header('x-forwarded-host'),
    header('x-forwarded-uri'),
  );
  const uris = [original, forwarded].filter((u): u is string => u !== undefined && u !== '');
  if (uris.length === 2 && htuForm(uris[0] as string) !== htuForm(uris[1] as string))
    throw new ResolutionError(
      'PROOF_INVALID',
      'the forwarded request headers disagree on the URI (X-Original-URL vs X-Forwarded-Proto/-Host/-Uri)',
    );
  const method = methods[0];
  if (method !== undefined && (method.length > MAX_METHOD || !METHOD.test(method)))
    throw new ResolutionError('PROOF_INVALID', 'the forwarded method is not an HTTP method');
  const uri = uris[0];
  if (uri !== undefined && uri.length > MAX_URI)
    throw new ResolutionError('PROOF_INVALID', `the forwarded URI exceeds ${MAX_URI} characters`);
  return { method, uri, dpop: header('dpop') };
}

/**
 * The request as Envoy's ext_authz describes it (`attributes.request.http`): its method, scheme,
 * host and path (with the query, which `htu` ignores), and its headers.
 */
export function presentedFromEnvoy(http: {
  readonly method?: string;
  readonly scheme?: string;
  readonly host?: string;
  readonly path?: string;
  readonly dpop?: string;
}): PresentedRequest {
  return {
    method: http.method || undefined,
    uri: requestUri(http.scheme, http.host, http.path),
    dpop: http.dpop,
  };
}
