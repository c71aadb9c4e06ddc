/**
 * The form of an HTTP(S) URI that a DPoP proof's `htu` is compared in (RFC 9449 §4.3 check 9):
 * no query, no fragment, and the syntax- and scheme-based normalisations of RFC 3986 §6.2.2 and
 * §6.2.3 (scheme and host in lower case, the default port dropped, dot segments removed, an empty
 * path as `/`, percent-encodings in upper case). `undefined` for anything that is not an
 * absolute http(s) URI, or that carries user information.
 */
export function htuForm(uri: string): string | undefined {
  // The WHATWG parser drops leading and trailing C0 controls and spaces, and every tab and
  // newline inside, so `…/42\u0000` or `…/4\n2` would read as `…/42`: a URI carrying any of
  // them (or DEL) is no URI a request was made for, and matches nothing.
  // eslint-disable-next-line no-control-regex -- the control characters are what it refuses
  if (uri.length > 8192 || /[\u0000-\u0020\u007f]/.test(uri)) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    return undefined;
  if (!url.host) return undefined;
  const path = url.pathname.replace(/%[0-9a-f]{2}/gi, (e) => e.toUpperCase());
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * The absolute URI of a request as a gateway forwards its parts (scheme, host, path with an
 * optional query): what `htu` is compared against. `undefined` when a part is missing or cannot
 * form a URI (the binding step then says which part was not forwarded).
 */
export function requestUri(
  scheme: string | undefined,
  host: string | undefined,
  path: string | undefined,
): string | undefined {
  if (!scheme || !host || !path) return undefined;
  if (!/^https?$/i.test(scheme) || !path.startsWith('/') || /[\s/\\@]/.test(host)) return undefined;
  return `${scheme.toLowerCase()}://${host}${path}`;
}
