import { ResolutionError } from '@resolver/reasons';
import type { DecodedToken, IntrospectedToken } from '@resolver/tokens';
import type { PipelineContext, PipelineEnv } from './context';

/** What the introspection step found, for the diagnosis (never the token). */
export interface IntrospectionFindings {
  /** The issuer the token was routed to, and how the resolver authenticates there. */
  readonly issuer: string;
  readonly clientAuth: string;
  readonly prefix?: string;
  /** The answer: active, inactive, or none (the endpoint gave no usable answer). */
  readonly active?: boolean;
  /** Answered from the introspection cache (no request for this call). */
  readonly cached?: boolean;
  /** A cached active answer served past its cap because the endpoint is failing. */
  readonly stale?: boolean;
  /** Whether the endpoint answered its last request (undefined: never asked). */
  readonly reachable?: boolean;
  /** Until when the answer is used without asking again (epoch ms). */
  readonly freshUntilMs?: number;
}

/**
 * Opaque tokens (RFC 7662): the token goes to the one issuer the configured rule names (its
 * `introspection.prefix`, or the only introspecting issuer), and to no other; with no
 * introspecting issuer configured it is refused as before, without any request. The active
 * answer becomes the token's claims (a {@link DecodedToken} without header or signature), which
 * the claim steps, the subject and tenant steps and the verified-token cache then take like a
 * JWT's: the same pipeline from here on. TOKEN_INACTIVE for an inactive token;
 * INTROSPECTION_UNAVAILABLE (503) when the endpoint gives no usable answer.
 */
export async function introspectOpaque(ctx: PipelineContext, env: PipelineEnv): Promise<void> {
  const client = env.verifier.introspectorFor(ctx.raw);
  if (!client) throw unrouted(env);
  const findings = {
    issuer: client.issuer,
    clientAuth: client.clientAuth,
    prefix: client.config.prefix,
  };
  ctx.issuer = env.verifier.issuer(client.issuer);
  ctx.phase = 'introspection';
  const cachedBefore = client.hasFreshAnswer(ctx.hash);
  let answer: IntrospectedToken;
  try {
    answer = await env.introspect(client, ctx.raw, ctx.hash);
  } catch (error) {
    const inactive = error instanceof ResolutionError && error.reason === 'TOKEN_INACTIVE';
    ctx.introspection = {
      ...findings,
      active: inactive ? false : undefined,
      cached: inactive && cachedBefore,
      reachable: client.state().reachable,
    };
    throw error;
  } finally {
    ctx.phase = 'request';
  }
  ctx.introspection = {
    ...findings,
    active: true,
    cached: answer.cached,
    stale: answer.stale,
    reachable: client.state().reachable,
    freshUntilMs: answer.freshUntilMs,
  };
  ctx.introspected = answer;
  ctx.decoded = decodedOf(ctx.raw, answer);
}

/** An opaque token no configured issuer introspects: refused, nothing sent anywhere. */
function unrouted(env: PipelineEnv): ResolutionError {
  return env.verifier.introspectors().length === 0
    ? new ResolutionError(
        'TOKEN_MALFORMED',
        'not a JWS (3 base64url segments), a JWE (5) or a PASETO v4.public token, and no issuer introspects opaque tokens',
      )
    : new ResolutionError(
        'TOKEN_MALFORMED',
        'an opaque token that starts with no configured introspection.prefix: no issuer introspects it',
      );
}

const NO_HEADER = Object.freeze(Object.create(null) as Record<string, unknown>);

function decodedOf(raw: string, answer: IntrospectedToken): DecodedToken {
  return {
    header: NO_HEADER,
    payload: answer.claims,
    sizeBytes: Buffer.byteLength(raw, 'utf8'),
    signatureLength: 0,
    introspected: true,
  };
}
