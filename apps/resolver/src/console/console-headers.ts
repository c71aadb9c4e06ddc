/**
 * The index page's Content-Security-Policy: only this origin's scripts, styles and fetches, no
 * inline script or style, never framed (clickjacking the lifecycle buttons), no plugins, no
 * `<base>` rewriting, forms post only here.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every console response: never sniffed, framed, or sent on as a referrer. */
export const CONSOLE_COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Hashed asset names change with their content: cache them for a year, never revalidate. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';
