import { z } from 'zod';
import { ASYMMETRIC_ALGORITHMS } from './algorithms';
import type { Immutable } from './immutable';
import { jwksPolicySchema } from './issuer.schema';

/**
 * The Shared Signals (SSF 1.0) receiver's configuration: the transmitters whose Security Event
 * Tokens (RFC 8417) the resolver accepts, how they are delivered (push, RFC 8935; poll, RFC 8936),
 * and what each event type does. Off unless a transmitter is configured.
 */

/** Event types by their short name; the full URI is `SSF_EVENT_URIS[name]`. */
export const SSF_EVENT_URIS = {
  'session-revoked': 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  'credential-change': 'https://schemas.openid.net/secevent/caep/event-type/credential-change',
  'token-claims-change': 'https://schemas.openid.net/secevent/caep/event-type/token-claims-change',
  'assurance-level-change':
    'https://schemas.openid.net/secevent/caep/event-type/assurance-level-change',
  'device-compliance-change':
    'https://schemas.openid.net/secevent/caep/event-type/device-compliance-change',
  'risk-level-change': 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change',
  'account-disabled': 'https://schemas.openid.net/secevent/risc/event-type/account-disabled',
  'account-enabled': 'https://schemas.openid.net/secevent/risc/event-type/account-enabled',
  'account-purged': 'https://schemas.openid.net/secevent/risc/event-type/account-purged',
  'credential-compromise':
    'https://schemas.openid.net/secevent/risc/event-type/credential-compromise',
  'account-credential-change-required':
    'https://schemas.openid.net/secevent/risc/event-type/account-credential-change-required',
  'identifier-changed': 'https://schemas.openid.net/secevent/risc/event-type/identifier-changed',
  'identifier-recycled': 'https://schemas.openid.net/secevent/risc/event-type/identifier-recycled',
  verification: 'https://schemas.openid.net/secevent/ssf/event-type/verification',
  'stream-updated': 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated',
} as const;
export type SsfEventName = keyof typeof SSF_EVENT_URIS;
export const SSF_EVENT_NAMES = Object.keys(SSF_EVENT_URIS) as SsfEventName[];

/**
 * What an event does to the user it names:
 * - `none`: acknowledged and counted, nothing recorded;
 * - `record`: recorded (audit line, last event) and nothing else;
 * - `revoke-session`: the session the subject names (tokens carrying its `sid`), or, with no
 *   session in the subject, every token of the user issued before `event_timestamp`;
 * - `sign-out`: every token of the user issued before `event_timestamp` is refused;
 * - `refresh-claims`: cached answers for the user dropped, JIT-mapped claims updated;
 * - `disable` / `enable` / `delete`: the user's status, never overriding an operator's decision;
 * - `repoint`: the external identity moved to the event's new subject (identifier-changed);
 * - `unlink`: the external identity removed (identifier-recycled).
 */
export const SSF_ACTIONS = [
  'none',
  'record',
  'revoke-session',
  'sign-out',
  'refresh-claims',
  'disable',
  'enable',
  'delete',
  'repoint',
  'unlink',
] as const;
export type SsfAction = (typeof SSF_ACTIONS)[number];

/** The default action of each event type (the issue's table). */
export const SSF_DEFAULT_ACTIONS: Readonly<Record<SsfEventName, SsfAction>> = {
  'session-revoked': 'revoke-session',
  'credential-change': 'sign-out',
  'token-claims-change': 'refresh-claims',
  'assurance-level-change': 'record',
  'device-compliance-change': 'record',
  'risk-level-change': 'record',
  'account-disabled': 'disable',
  'account-enabled': 'enable',
  'account-purged': 'delete',
  'credential-compromise': 'sign-out',
  'account-credential-change-required': 'sign-out',
  'identifier-changed': 'repoint',
  'identifier-recycled': 'unlink',
  verification: 'record',
  'stream-updated': 'record',
};

/** Actions that need what only one event type carries; any other action fits any user event. */
const ONLY_FOR: Partial<Record<SsfAction, readonly SsfEventName[]>> = {
  'revoke-session': ['session-revoked'],
  'refresh-claims': ['token-claims-change'],
  repoint: ['identifier-changed'],
};
/** Stream events never name a user: they can only be recorded or ignored. */
const STREAM_EVENTS: readonly SsfEventName[] = ['verification', 'stream-updated'];

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const httpUrl = z.url({ protocol: /^https?$/ });
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A secret read at boot by `resolveSecrets`: from a variable or a file, exactly one. */
const secretRef = z
  .strictObject({ env: envName.optional(), file: z.string().min(1).optional() })
  .refine((s) => (s.env === undefined) !== (s.file === undefined), {
    message: 'set exactly one of env or file',
  });

/** Push (RFC 8935): the transmitter POSTs SETs to `/ssf/push/<name>` with a bearer credential. */
const pushSchema = z
  .strictObject({
    /** sha256 of the bearer credential, hex: the credential itself is never stored. */
    tokenSha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the 64-hex-digit sha256 of the bearer credential')
      .optional(),
    /** Or: the environment variable holding the credential (hashed at boot, not kept). */
    tokenEnv: envName.optional(),
    /**
     * The push URL as the transmitter reaches it (behind a proxy), sent as the stream's
     * `endpoint_url` by stream management. Default: built from the request's own address.
     */
    publicUrl: httpUrl.optional(),
  })
  .refine((p) => (p.tokenSha256 === undefined) !== (p.tokenEnv === undefined), {
    message: 'set exactly one of tokenSha256 or tokenEnv',
  })
  .transform(({ tokenSha256, tokenEnv, ...push }) => ({
    ...push,
    // A credential named by env var is read (and hashed) by `resolveSecrets`.
    credential:
      tokenEnv !== undefined
        ? { kind: 'env' as const, env: tokenEnv }
        : {
            kind: 'sha256' as const,
            // The refinement allows exactly one of the two, so this one is set.
            sha256: new Uint8Array(Buffer.from(tokenSha256 as string, 'hex')),
          },
  }));

/** Poll (RFC 8936): one replica at a time asks the transmitter for events. */
const pollSchema = z
  .strictObject({
    /** The poll endpoint; default: the stream's `delivery.endpoint_url` from the transmitter. */
    endpoint: httpUrl.optional(),
    /** Time between polls while the transmitter answers; `moreAvailable` polls again at once. */
    intervalSeconds: z.number().int().min(1).max(3_600).default(30),
    /** Upper bound of the backoff while the transmitter cannot be reached. */
    maxBackoffSeconds: z.number().int().min(1).max(86_400).default(300),
    /** `maxEvents` asked for per poll. */
    maxEvents: z.number().int().min(1).max(1_000).default(100),
    /** `returnImmediately` in the poll request (false = long poll, bounded by `timeoutMs`). */
    returnImmediately: z.boolean().default(true),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** The `Authorization` header value the transmitter expects, read from env or a file. */
    authorization: secretRef.optional(),
  })
  .refine((p) => p.maxBackoffSeconds >= p.intervalSeconds, {
    path: ['maxBackoffSeconds'],
    message: 'must be at least intervalSeconds',
  });

/** SSF §8 stream management against the transmitter's configuration endpoint. */
const streamSchema = z
  .strictObject({
    /** Events asked for when creating the stream; default: every type whose action is not `none`. */
    eventsRequested: z.array(z.enum(SSF_EVENT_NAMES)).min(1).optional(),
    description: z.string().max(256).optional(),
    /** The `Authorization` header value for the transmitter's management endpoints. */
    authorization: secretRef.optional(),
  })
  .prefault({});

const eventsSchema = z
  .partialRecord(
    z.enum(SSF_EVENT_NAMES, {
      error: (issue) =>
        `unknown event type ${JSON.stringify(issue.input)}; known: ${SSF_EVENT_NAMES.join(', ')}`,
    }),
    z.enum(SSF_ACTIONS, {
      error: (issue) =>
        `unknown action ${JSON.stringify(issue.input)}; one of ${SSF_ACTIONS.join(', ')}`,
    }),
  )
  .default({})
  .superRefine((events, ctx) => {
    for (const [event, action] of Object.entries(events) as [SsfEventName, SsfAction][]) {
      const only = ONLY_FOR[action];
      const streamEvent = STREAM_EVENTS.includes(event);
      if (
        (only && !only.includes(event)) ||
        (streamEvent && action !== 'none' && action !== 'record')
      )
        ctx.addIssue({
          code: 'custom',
          path: [event],
          message: streamEvent
            ? `${event} names no user: its action can only be record or none`
            : `${action} applies only to ${(only ?? []).join(', ')}`,
        });
    }
  });

const transmitterSchema = z
  .strictObject({
    /** Short name: the push route `/ssf/push/<name>`, metric label, audit actor `ssf:<name>`. */
    name: z.string().regex(NAME, 'must be a short name (letters, digits, . _ -)'),
    /** The transmitter's issuer: the exact `iss` of its SETs. */
    issuer: z.string().min(1, 'must be the exact "iss" of the transmitter\'s SETs'),
    /**
     * Discovery from `/.well-known/ssf-configuration` (its `issuer` must equal `issuer`): the
     * JWKS and the stream endpoints. Otherwise `jwksUri` (and the endpoints) are explicit.
     */
    discovery: z.boolean().default(false),
    jwksUri: httpUrl.optional(),
    configurationEndpoint: httpUrl.optional(),
    statusEndpoint: httpUrl.optional(),
    verificationEndpoint: httpUrl.optional(),
    jwks: jwksPolicySchema,
    /** Algorithms the SETs may be signed with; asymmetric only, `none` never. */
    algorithms: z
      .array(
        z.enum(ASYMMETRIC_ALGORITHMS, {
          error: (issue) =>
            String(issue.input).toLowerCase() === 'none'
              ? '"none" is never allowed: unsigned events are not events'
              : `unsupported algorithm ${JSON.stringify(issue.input)}; allowed: ${ASYMMETRIC_ALGORITHMS.join(', ')}`,
        }),
      )
      .min(1, 'list the allowed algorithms explicitly'),
    /** The `aud` this receiver expects in the SETs (one of the values in `aud`). */
    audience: z.string().min(1, 'must be the audience the transmitter puts in its SETs'),
    /** The users the events may act on: those of this resolver issuer (and tenant). */
    resolver: z.strictObject({
      issuer: z.string().min(1, 'must be the "iss" of the users\' tokens (an issuers[] entry)'),
      /** The tenant of those users; unset = the issuer's users without a tenant. */
      tenant: z.string().max(255).optional(),
    }),
    delivery: z
      .strictObject({ push: pushSchema.optional(), poll: pollSchema.optional() })
      .refine((d) => d.push !== undefined || d.poll !== undefined, {
        message: 'set push, poll, or both',
      }),
    stream: streamSchema,
    /** Per event type overrides of the default actions. */
    events: eventsSchema,
    /** Alert (`SsfStreamSilent`) when no event arrived for this long; unset = no alert. */
    silenceAlertSeconds: z.number().int().min(60).max(2_592_000).optional(),
  })
  .superRefine((t, ctx) => {
    if (!t.discovery && t.jwksUri === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['jwksUri'],
        message: 'set jwksUri, or discovery: true to read it from /.well-known/ssf-configuration',
      });
    if (t.discovery && t.jwksUri !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['jwksUri'],
        message: 'set either discovery: true or jwksUri, not both',
      });
    if (t.jwks.maxStaleMs < t.jwks.cacheMaxAgeMs)
      ctx.addIssue({
        code: 'custom',
        path: ['jwks', 'maxStaleMs'],
        message: `must be at least jwks.cacheMaxAgeMs (${t.jwks.cacheMaxAgeMs})`,
      });
  })
  .transform(({ events, ...t }) => ({
    ...t,
    /** The action of every event type: the defaults with the overrides over them. */
    actions: actionsOf(events),
  }));

function actionsOf(
  overrides: Partial<Record<SsfEventName, SsfAction>>,
): Readonly<Record<SsfEventName, SsfAction>> {
  return { ...SSF_DEFAULT_ACTIONS, ...overrides };
}

/** The receiver: limits shared by every transmitter, and the transmitters. */
export const ssfSchema = z
  .strictObject({
    /** Largest SET accepted, in bytes (push body or one polled SET). */
    maxSetBytes: z.number().int().min(1_024).max(262_144).default(16_384),
    /** A SET whose `iat` is later than now by more than this is refused. */
    clockToleranceSeconds: z.number().int().min(0).max(600).default(60),
    /** A SET whose `iat` is older than this is refused (a transmitter retrying for days). */
    maxEventAgeSeconds: z.number().int().min(60).max(31_536_000).default(604_800),
    /**
     * How long processed `jti`s are kept to recognise a replay. At least `maxEventAgeSeconds`:
     * a SET is refused by age before its `jti` is forgotten.
     */
    jtiRetentionSeconds: z.number().int().min(60).max(31_536_000).default(1_209_600),
    transmitters: z.array(transmitterSchema).default([]),
  })
  .superRefine((ssf, ctx) => {
    if (ssf.jtiRetentionSeconds < ssf.maxEventAgeSeconds)
      ctx.addIssue({
        code: 'custom',
        path: ['jtiRetentionSeconds'],
        message: `must be at least maxEventAgeSeconds (${ssf.maxEventAgeSeconds}): a replay older than the retention would be applied again`,
      });
    const names = new Set<string>();
    const issuers = new Set<string>();
    ssf.transmitters.forEach((t, i) => {
      if (names.has(t.name))
        ctx.addIssue({
          code: 'custom',
          path: ['transmitters', i, 'name'],
          message: 'duplicate name',
        });
      names.add(t.name);
      const key = JSON.stringify([t.issuer, t.audience]);
      if (issuers.has(key))
        ctx.addIssue({
          code: 'custom',
          path: ['transmitters', i, 'issuer'],
          message: 'another transmitter already has this issuer and audience',
        });
      issuers.add(key);
    });
  })
  .prefault({});

type ValidatedTransmitter = z.output<typeof ssfSchema>['transmitters'][number];
/** A poll delivery as validated (its authorization still a reference). */
export type SsfPollConfig = Immutable<z.output<typeof pollSchema>>;
/** Where a secret is read: `{ env }` or `{ file }`. */
export type SsfSecretRef = Immutable<z.output<typeof secretRef>>;
/** A transmitter as validated, before `resolveSecrets` reads its credentials. */
export type ValidatedSsfTransmitter = ValidatedTransmitter;
