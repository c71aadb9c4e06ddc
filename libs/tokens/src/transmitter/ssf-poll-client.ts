import {
  isObject,
  member,
  TransmitterError,
  type TransmitterFetch,
  transmitterFetch,
} from './transmitter-http';

/** One RFC 8936 poll request: acknowledge, report errors, ask for more. */
export interface PollRequest {
  readonly maxEvents: number;
  readonly returnImmediately: boolean;
  readonly ack: readonly string[];
  /** RFC 8936 §2.4.1: the SETs refused, by jti, with their RFC 8935-style error. */
  readonly setErrs: ReadonlyMap<string, { readonly err: string; readonly description: string }>;
}

export interface PollAnswer {
  /** The SETs by jti, in the order the transmitter listed them. */
  readonly sets: ReadonlyMap<string, string>;
  readonly moreAvailable: boolean;
}

export interface PollTarget {
  readonly endpoint: string;
  readonly authorization?: string;
  readonly timeoutMs: number;
}

const MAX_JTI = 256;

/**
 * RFC 8936 poll delivery, the receiver's side: POSTs `{maxEvents, returnImmediately, ack,
 * setErrs}` and reads `{sets, moreAvailable}`. An answer with more SETs than asked for, a jti
 * that is not a bounded string or a SET that is not a string is `malformed` (nothing of it is
 * used, so nothing is acknowledged that was not processed).
 */
export async function pollTransmitter(
  target: PollTarget,
  request: PollRequest,
  fetchJson: TransmitterFetch = transmitterFetch,
): Promise<PollAnswer> {
  const setErrs: Record<string, { err: string; description: string }> = {};
  for (const [jti, e] of request.setErrs) setErrs[jti] = { err: e.err, description: e.description };
  const body: Record<string, unknown> = {
    maxEvents: request.maxEvents,
    returnImmediately: request.returnImmediately,
  };
  if (request.ack.length) body.ack = request.ack;
  if (request.setErrs.size) body.setErrs = setErrs;
  const answer = await fetchJson({
    method: 'POST',
    url: target.endpoint,
    authorization: target.authorization,
    body,
    timeoutMs: target.timeoutMs,
  });
  const malformed = (what: string) =>
    new TransmitterError('malformed', `POST ${target.endpoint}: ${what}`);
  if (!isObject(answer.body)) throw malformed('the answer is not a JSON object');
  const sets = member(answer.body, 'sets');
  if (!isObject(sets)) throw malformed('sets is not an object');
  const entries = Object.entries(sets);
  if (entries.length > request.maxEvents)
    throw malformed(`${entries.length} SETs where at most ${request.maxEvents} were asked for`);
  const out = new Map<string, string>();
  for (const [jti, set] of entries) {
    if (jti === '' || jti.length > MAX_JTI) throw malformed('a jti is not 1 to 256 characters');
    if (typeof set !== 'string')
      throw malformed(`the SET of ${JSON.stringify(jti)} is not a string`);
    out.set(jti, set);
  }
  const more = member(answer.body, 'moreAvailable');
  return { sets: out, moreAvailable: more === true };
}
