/** The page the location hash names; the hash never carries a token or a credential. */
export type Route =
  | { readonly page: 'overview' }
  | { readonly page: 'diagnose' }
  | { readonly page: 'users' }
  | { readonly page: 'user'; readonly id: string };

/**
 * The route of any hash, never an exception: the hash is whatever the address bar holds, and a
 * throw here would stop the page from updating at all. A segment that is not valid
 * percent-encoding (`#/users/%E0%A4%A`) is taken as it stands; the admin API then says it names
 * no user.
 */
export function routeOf(hash: string): Route {
  const [page, id] = hash.replace(/^#\/?/, '').split('/');
  if (page === 'users' && id) return { page: 'user', id: decodeSegment(id) };
  if (page === 'users') return { page: 'users' };
  if (page === 'diagnose') return { page: 'diagnose' };
  return { page: 'overview' };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
