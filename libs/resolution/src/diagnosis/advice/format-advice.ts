import type { TokenFormat } from '@resolver/tokens';
import type { Report, ReportInput } from '../report';

/**
 * Operator text for the format steps: what the token is by its shape (format) and, for an
 * encrypted JWT, its decryption. A failed decryption reports the header's routing only (kid,
 * algorithms, issuer): no decrypted byte is ever shown unless decryption succeeded.
 */

const FORMAT_NAMES: Readonly<Record<TokenFormat, string>> = {
  jws: 'a signed JWT (JWS compact: 3 segments)',
  jwe: 'an encrypted JWT (JWE compact: 5 segments)',
  paseto: 'a PASETO v4.public token',
  opaque: 'an opaque token (no JWS, JWE or PASETO shape)',
};

/** The format step: what the token is by its shape (or why that shape is refused). */
export function writeFormat(report: Report, input: ReportInput): void {
  const { steps, ctx } = input;
  const format = ctx?.format;
  // An opaque token's other refusals (inactive, no answer) are the introspection step's.
  const unrouted = steps.error('opaque');
  const error =
    steps.error('format') ?? (unrouted?.reason === 'TOKEN_MALFORMED' ? unrouted : undefined);
  if (error) {
    report.set(
      'format',
      'fail',
      `${error.reason}: ${error.message}`,
      { reason: error.reason, ...(format ? { format } : {}) },
      {
        fix:
          format === 'opaque'
            ? 'send a JWS, JWE or PASETO v4.public token, or configure the issuer that introspects opaque tokens'
            : 'only PASETO v4.public is accepted: ask the issuer for v4.public tokens (v4.local is symmetric; v1 to v3 use other algorithms)',
      },
    );
    return;
  }
  if (!format) return;
  report.set('format', 'pass', FORMAT_NAMES[format], { format });
  // Only a JWE has a decryption step: for every other format it does not apply.
  if (format !== 'jwe') report.set('decrypt', 'skip', `not encrypted (${format})`, { format });
}

/** The decryption step (JWE): which key and issuer, or why it did not decrypt. */
export function writeDecrypt(report: Report, input: ReportInput): void {
  const { steps, ctx } = input;
  if (ctx?.format !== 'jwe') return;
  const route = ctx.jwe;
  const routing = route
    ? { issuer: route.issuer, kid: route.kid, alg: route.alg, enc: route.enc, zip: route.zip }
    : {};
  const error = steps.error('decrypt');
  if (error) {
    report.set(
      'decrypt',
      'fail',
      `${error.reason}: ${error.message}`,
      { reason: error.reason, ...routing },
      { fix: DECRYPT_FIXES[error.reason] ?? DECRYPT_FIXES.DECRYPTION_FAILED },
    );
    return;
  }
  if (!route) return;
  report.set(
    'decrypt',
    'pass',
    `decrypted with key ${route.kid} of ${route.issuer} (${route.alg}, ${route.enc}${route.zip ? `, zip ${route.zip}` : ''}); ` +
      (ctx.nested
        ? 'it carries a signed JWT, verified below'
        : 'its payload is an unsigned claims set (allowed for this issuer)'),
    { ...routing, nested: ctx.nested ? 'JWS' : 'claims' },
  );
}

const DECRYPT_FIXES: Readonly<Partial<Record<string, string>>> = {
  DECRYPTION_FAILED:
    "encrypt to the issuer's current decryption public key and put its kid in the JWE header (issuers[].decryption.keys)",
  ALGORITHM_NOT_ALLOWED:
    'use an allowed algorithm (issuers[].decryption.keyManagementAlgorithms / contentEncryptionAlgorithms), and sign the payload (cty: JWT)',
  TOKEN_MALFORMED:
    'send a JWE compact serialization whose protected header has alg, enc and kid, and whose payload is a signed JWT (cty: JWT)',
  TOKEN_TOO_LARGE:
    'the decompressed payload exceeds issuers[].decryption.compression.maxDecompressedBytes',
  CLAIM_INVALID: 'the JWE header "iss", when present, must be the issuer whose key the kid names',
};

/**
 * The key step of a token that is no JWS: a PASETO token's v4.public key by footer `kid`, or
 * the unsigned payload of a JWE whose issuer allows one. False for a JWS (or a JWE's nested JWS).
 */
export function writeKeyOfOtherFormats(report: Report, input: ReportInput): boolean {
  const { steps, ctx } = input;
  if (ctx?.format === 'jwe' && ctx.nested === undefined) {
    report.set(
      'key',
      'skip',
      'no signature: the payload was encrypted, not signed (allowed for this issuer)',
      {},
    );
    return true;
  }
  if (ctx?.format !== 'paseto') return false;
  const kid = ctx.paseto?.token.kid;
  const configured = ctx.issuer?.paseto?.keys.map((k) => k.kid ?? '(no kid)') ?? [];
  const details = { version: 'v4.public', kid, configuredKeyIds: configured };
  const error = steps.error('pasetoKey');
  if (error) {
    report.set('key', 'fail', `${error.reason}: ${error.message}`, details, {
      fix:
        error.reason === 'ALGORITHM_NOT_ALLOWED'
          ? "configure the issuer's v4.public keys (issuers[].paseto.keys) to accept its PASETO tokens"
          : "the footer's kid must name one of issuers[].paseto.keys (a key this issuer trusts)",
    });
    return true;
  }
  if (steps.outcome('pasetoKey'))
    report.set(
      'key',
      'pass',
      `v4.public (Ed25519); ${kid ? `key ${kid} matches` : 'no kid in the footer: every key is tried'}`,
      details,
    );
  return true;
}

/** The signature step of a PASETO token, or the skipped one of an unsigned JWE payload. */
export function writeSignatureOfOtherFormats(report: Report, input: ReportInput): boolean {
  const { steps, ctx } = input;
  if (ctx?.format === 'jwe' && ctx.nested === undefined) {
    report.set('signature', 'skip', 'no signature: the payload was encrypted, not signed', {});
    return true;
  }
  if (ctx?.format !== 'paseto') return false;
  const error = steps.error('pasetoSignature');
  if (error)
    report.set(
      'signature',
      'fail',
      error.message,
      {},
      {
        fix: 'the token was altered, signed by another key, or with another implicit assertion than issuers[].paseto.implicitAssertion: get a fresh token from the issuer',
      },
    );
  else if (steps.outcome('pasetoSignature'))
    report.set(
      'signature',
      'pass',
      'the v4.public signature verifies with a trusted key (Ed25519 over PAE, with the implicit assertion)',
    );
  return true;
}
