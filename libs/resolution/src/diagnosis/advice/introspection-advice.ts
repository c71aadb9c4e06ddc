import { humanTime } from '../human-time';
import type { Report, ReportInput } from '../report';
import { readableTimes } from './token-advice';

/**
 * Operator text for an opaque token's introspection step (RFC 7662): where it was sent, what the
 * endpoint (or the cache) answered, whether the endpoint is reachable. Never the token: only the
 * issuer, the client authentication's method and id, and the answer's members. For an opaque
 * token the JWS steps (decode, key, signature) do not apply, and say so.
 */
export function writeIntrospection(report: Report, input: ReportInput): void {
  const { steps, ctx, now, config } = input;
  const format = ctx?.format;
  if (format === undefined) return;
  if (format !== 'opaque') {
    report.set('introspection', 'skip', `not an opaque token (${format})`, { format });
    return;
  }
  const found = ctx?.introspection;
  const details = {
    issuer: found?.issuer ?? null,
    clientAuth: found?.clientAuth ?? null,
    prefix: found?.prefix ?? null,
    active: found?.active ?? null,
    cached: found?.cached ?? false,
    stale: found?.stale ?? false,
    endpointReachable: found?.reachable ?? null,
    freshUntil:
      found?.freshUntilMs === undefined ? null : humanTime(new Date(found.freshUntilMs), now),
  };
  const notJws = 'an opaque token has no JWS to check: its issuer vouches for it by introspection';
  report.set('decode', 'skip', notJws, { format });
  report.set('key', 'skip', notJws, {});
  report.set('signature', 'skip', notJws, {});
  const error = steps.error('opaque');
  if (error?.reason === 'TOKEN_MALFORMED') {
    const prefixes = config.issuers.flatMap((i) =>
      i.introspection?.prefix === undefined ? [] : [`${i.issuer}: ${i.introspection.prefix}`],
    );
    report.set('introspection', 'fail', `${error.reason}: ${error.message}`, details, {
      fix: prefixes.length
        ? `an opaque token goes only to the issuer whose introspection.prefix it starts with (${prefixes.join('; ')}); nothing was sent anywhere`
        : 'configure issuers[].introspection for the issuer of these tokens, or send a JWS, JWE or PASETO v4.public token',
    });
    return;
  }
  if (error?.reason === 'TOKEN_INACTIVE') {
    report.set(
      'introspection',
      'fail',
      `${found?.issuer ?? 'the issuer'} answered active: false${found?.cached ? ' (a cached answer)' : ''}: the token was revoked, has expired or was never issued`,
      details,
      { fix: 'get a new token from the authorization server' },
    );
    return;
  }
  if (error) {
    report.set('introspection', 'fail', `${error.reason}: ${error.message}`, details, {
      fix: `make the introspection endpoint of ${found?.issuer ?? 'the issuer'} reachable from the resolver, and check issuers[].introspection.clientAuth (${found?.clientAuth ?? '?'}): a refusal of the resolver's own client authentication is an outage (503), never the token's fault`,
    });
    return;
  }
  if (!found || ctx?.decoded === undefined) return;
  report.set('decode', 'skip', notJws, {
    format,
    payload: ctx.decoded.payload,
    times: readableTimes(ctx.decoded.payload, now),
  });
  report.set(
    'introspection',
    found.stale ? 'warn' : 'pass',
    `active, ${found.cached ? 'a cached answer' : 'asked the endpoint'}${found.stale ? ' kept past its cap while the endpoint fails (within exp)' : ''}; fresh until ${details.freshUntil ?? '?'}`,
    details,
    found.stale ? { fix: `the introspection endpoint of ${found.issuer} is failing` } : {},
  );
}
