import { humanTime, numericDate, relativeTime } from '../human-time';
import { writeKeyOfOtherFormats, writeSignatureOfOtherFormats } from './format-advice';
import { messageOf, type Report, type ReportInput } from '../report';
import { isText, plain, shown } from './wording';

/**
 * Operator text for the token steps (decode, issuer, key, signature, time, claims): what each
 * step's outcome means and what to do about it. No decisions here: the outcomes come from the
 * pipeline's steps, run by the diagnosis.
 */

/** The time claims of a payload, readable. */
export function readableTimes(
  payload: Readonly<Record<string, unknown>>,
  now: Date,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const claim of ['iat', 'nbf', 'exp', 'auth_time']) {
    const value = payload[claim];
    const at = numericDate(value);
    if (at) out[claim] = humanTime(at, now);
    else if (typeof value === 'number') out[claim] = `${value} (not a date: outside years 1-9999)`;
  }
  return out;
}

export function writeDecode(report: Report, input: ReportInput): void {
  const { steps, ctx, config, now } = input;
  const error = steps.error('extract') ?? steps.error('decode') ?? steps.error('pasetoDecode');
  if (error) {
    const reason = error.reason;
    report.set(
      'decode',
      'fail',
      `${reason}: ${error.message}`,
      { reason },
      {
        fix:
          reason === 'TOKEN_MISSING'
            ? 'pass the compact JWT (header.payload.signature) in the "token" field'
            : reason === 'TOKEN_TOO_LARGE'
              ? `tokens are limited to ${config.limits.maxTokenBytes} bytes (limits.maxTokenBytes); ask the IdP for fewer claims`
              : ctx?.format === 'paseto'
                ? 'pass a PASETO v4.public token: v4.public.<message and 64-byte signature>[.<JSON footer>], the message a JSON claims object'
                : 'pass a JWS compact JWT: three base64url segments with JSON header and payload',
      },
    );
    return;
  }
  const decoded = ctx?.decoded;
  if (!decoded) return;
  const kid = decoded.header.kid;
  report.set(
    'decode',
    'pass',
    `${decoded.sizeBytes} bytes, alg ${plain(decoded.header.alg)}${kid !== undefined ? `, kid ${shown(kid)}` : ', no kid'}`,
    {
      header: decoded.header,
      payload: decoded.payload,
      times: readableTimes(decoded.payload, now),
      sizeBytes: decoded.sizeBytes,
      signatureLength: decoded.signatureLength,
    },
  );
}

export function writeIssuer(report: Report, input: ReportInput): void {
  const { steps, ctx, now, seen } = input;
  const decoded = ctx?.decoded;
  if (!decoded) return;
  const refused = steps.error('issuer');
  if (refused && refused.reason !== 'ISSUER_UNKNOWN') {
    // A nested JWT of another issuer than the one whose key decrypted the JWE.
    report.set(
      'issuer',
      'fail',
      `${refused.reason}: ${refused.message}`,
      { reason: refused.reason, iss: decoded.payload.iss, decryptedFor: ctx.jwe?.issuer },
      {
        fix: "encrypt each issuer's tokens to that issuer's own decryption key: the kid routes a JWE to its issuer",
      },
    );
    return;
  }
  if (refused) {
    const iss = decoded.payload.iss;
    const configured = seen.configuredIssuers ?? [];
    const close = configured.find(
      (c) =>
        typeof iss === 'string' &&
        c.replace(/\/+$/, '').toLowerCase() === iss.replace(/\/+$/, '').toLowerCase(),
    );
    report.set(
      'issuer',
      'fail',
      iss === undefined
        ? 'the token has no "iss" claim'
        : isText(iss)
          ? `iss ${JSON.stringify(iss)} is not a configured issuer${close ? ` (${JSON.stringify(close)} is, and differs only by case or a trailing slash)` : ''}`
          : `the token's "iss" claim is ${shown(iss)}, not an issuer URL`,
      { iss, configured },
      {
        fix: close
          ? `issuers are compared byte for byte: set issuers[].issuer to exactly ${JSON.stringify(iss)} or make the IdP emit ${JSON.stringify(close)}`
          : isText(iss)
            ? `add the issuer to the configuration (issuers[].issuer: ${JSON.stringify(iss)}) or send the token to the resolver that trusts it`
            : `the IdP must put its issuer URL in "iss" (the configured issuers: ${configured.join(', ') || 'none'}); a token without one cannot be matched to an issuer`,
      },
    );
    return;
  }
  const issuer = ctx.issuer;
  const state = seen.keyState;
  if (!issuer || !state) return;
  const troubled = state.degraded || state.lastError;
  report.set(
    'issuer',
    troubled ? 'warn' : 'pass',
    `${issuer.config.issuer} (${issuer.config.origin}), keys from ${state.kind}` +
      (state.lastFetchAt ? `, fetched ${relativeTime(state.lastFetchAt, now)}` : '') +
      (state.degraded ? ', serving keys past their max age (IdP unreachable)' : '') +
      (state.lastError ? `, last fetch error: ${state.lastError}` : ''),
    {
      issuer: issuer.config.issuer,
      origin: issuer.config.origin,
      keys: {
        source: state.kind,
        keyIds: state.keyIds,
        lastFetchAt: state.lastFetchAt && humanTime(state.lastFetchAt, now),
        lastError: state.lastError,
        degraded: state.degraded,
      },
    },
    troubled ? { fix: "check that the resolver can reach the issuer's JWKS / discovery URL" } : {},
  );
}

export function writeKey(report: Report, input: ReportInput): void {
  const { steps, ctx, seen } = input;
  const decoded = ctx?.decoded;
  const issuer = ctx?.issuer;
  if (!decoded || !issuer) return;
  if (writeKeyOfOtherFormats(report, input)) return;
  const alg = plain(decoded.header.alg);
  const kid = decoded.header.kid;
  const allowed = [...issuer.config.algorithms];
  const details: Record<string, unknown> = { alg, kid, allowedAlgorithms: allowed };
  const algorithmError = steps.error('algorithm');
  if (algorithmError?.reason === 'ALGORITHM_NOT_ALLOWED') {
    report.set(
      'key',
      'fail',
      `alg ${alg} is not allowed for this issuer (allowed: ${allowed.join(', ')})`,
      details,
      {
        fix: isText(decoded.header.alg)
          ? `have the IdP sign with one of ${allowed.join(', ')}, or add ${alg} to issuers[].algorithms if it is really used ("none" never is)`
          : `the "alg" header must name the algorithm, one of ${allowed.join(', ')}`,
      },
    );
    return;
  }
  if (algorithmError) {
    report.set('key', 'fail', algorithmError.message, details, {
      fix: 'the "kid" header must be a string of at most 256 characters',
    });
    return;
  }
  if (seen.availableKeyIds) details.availableKeyIds = seen.availableKeyIds;
  if (seen.keysError) details.keysError = seen.keysError;
  details.candidateKeyIds = seen.candidateKeyIds ?? [];
  const keysError = steps.error('keys');
  if (keysError?.reason === 'KEYS_UNAVAILABLE') {
    report.set(
      'key',
      'fail',
      `the issuer's keys could not be fetched: ${keysError.message}`,
      details,
      {
        fix: "make the issuer's JWKS / discovery URL reachable from the resolver (network, DNS, TLS); last good keys are kept once fetched",
      },
    );
    return;
  }
  if (keysError) {
    const available = seen.availableKeyIds ?? [];
    report.set(
      'key',
      'fail',
      `no trusted ${alg} key${isText(kid) ? ` with kid ${JSON.stringify(kid)}` : ''}; the issuer publishes ${available.length ? available.join(', ') : 'no keys'}`,
      details,
      {
        fix: `the token was signed by a key this issuer does not publish: check that the token comes from this IdP environment, or that the IdP has published its new key (the JWKS is refetched at most once per ${issuer.config.jwks.cooldownMs / 1000}s for an unknown kid)`,
      },
    );
    return;
  }
  const candidates = seen.candidateKeyIds ?? [];
  const matched = candidates[0];
  report.set(
    'key',
    'pass',
    `alg ${alg} allowed; ${matched ? `key ${matched} matches` : 'candidate keys found'}`,
    { ...details, matchedKeyId: matched },
  );
}

export function writeSignature(report: Report, input: ReportInput): void {
  const { steps } = input;
  if (writeSignatureOfOtherFormats(report, input)) return;
  const error = steps.error('signaturePresent') ?? steps.error('signature');
  if (error) {
    report.set(
      'signature',
      'fail',
      error.reason === 'SIGNATURE_INVALID' ? error.message : `${error.reason}: ${error.message}`,
      {},
      {
        fix:
          error.reason === 'SIGNATURE_INVALID'
            ? 'the token was altered or signed with another key of the same id: get a fresh token from the IdP; check for truncation in transit'
            : "the issuer's key cannot verify a token of this algorithm: check the key type and size the IdP publishes for this alg",
      },
    );
  } else if (steps.outcome('signature')) {
    report.set('signature', 'pass', 'the signature verifies with a trusted key');
  }
}

export function writeTime(report: Report, input: ReportInput): void {
  const { steps, ctx, now } = input;
  const decoded = ctx?.decoded;
  const issuer = ctx?.issuer;
  const ran = steps.outcome('timeClaimsAreDates');
  if (!decoded || !issuer || !ran) return;
  const tolerance = issuer.config.clockToleranceSeconds;
  const details = { ...readableTimes(decoded.payload, now), clockToleranceSeconds: tolerance };
  const exp = numericDate(decoded.payload.exp);
  const summary = exp
    ? `exp ${relativeTime(exp, now)}, tolerance ${tolerance}s`
    : `no exp, tolerance ${tolerance}s`;
  const failed = ran.error ? ran : steps.outcome('timeWindow');
  const error = failed?.error;
  const unverified = failed?.unverified ?? ran.unverified;
  if (!error) {
    report.set('time', 'pass', summary, details, { unverified });
    return;
  }
  report.set('time', 'fail', `${error.reason}: ${error.message} (${summary})`, details, {
    unverified,
    fix:
      error.reason === 'TOKEN_EXPIRED'
        ? 'get a new token (refresh it); if tokens expire while in flight, shorten the path or raise clockToleranceSeconds slightly'
        : error.reason === 'TOKEN_NOT_YET_VALID'
          ? "check the clocks: the IdP's and the resolver's (NTP); clockToleranceSeconds absorbs small skew"
          : 'time claims must be NumericDate numbers within years 1-9999, and "iat" not in the future',
  });
}

export function writeClaims(report: Report, input: ReportInput): void {
  const { steps, ctx } = input;
  const decoded = ctx?.decoded;
  const issuer = ctx?.issuer;
  const outcome = steps.outcome('claims');
  if (!decoded || !issuer || !outcome) return;
  const policy = issuer.config;
  const aud = decoded.payload.aud;
  const details = {
    aud,
    acceptedAudiences: policy.audiences,
    requiredClaims: policy.requiredClaims,
    typ: decoded.header.typ,
  };
  const error = outcome.error;
  if (!error) {
    report.set(
      'claims',
      'pass',
      `aud ${shown(aud)} accepted; required claims ${policy.requiredClaims.join(', ') || '(none)'} present; ${decoded.header.typ === undefined ? 'no typ header' : `typ ${shown(decoded.header.typ)}`}`,
      details,
      { unverified: outcome.unverified },
    );
    return;
  }
  report.set('claims', 'fail', `${error.reason}: ${error.message}`, details, {
    unverified: outcome.unverified,
    fix:
      error.reason === 'AUDIENCE_MISMATCH'
        ? `${aud === undefined ? 'the token names no audience ("aud")' : `the token is for ${shown(aud)}`}, this resolver accepts ${policy.audiences.join(', ')}: request the token for an accepted audience (scope/resource at the IdP), or add the audience to issuers[].audiences`
        : policy.typ && messageOf(error).includes('"typ"')
          ? `the token's "typ" header must be ${JSON.stringify(policy.typ)} (issuers[].typ)`
          : `the token must carry ${policy.requiredClaims.join(', ') || 'the required claims'} (issuers[].requiredClaims) with valid values`,
  });
}
