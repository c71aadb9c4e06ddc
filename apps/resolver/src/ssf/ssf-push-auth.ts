import { createHash, timingSafeEqual } from 'node:crypto';
import type { SsfTransmitterConfig } from '@resolver/config';
import { SetError } from '@resolver/tokens';

/** The push route's path; `:transmitter` is the configured name. */
export const SSF_PUSH_PATH = '/ssf/push/:transmitter';
/** Every Shared Signals path (the SET body parser is accepted only here). */
export const SSF_PATHS = /^\/ssf\//;

/**
 * Checks the push credential of the transmitter the path names (RFC 8935 §2: the receiver
 * authenticates the transmitter): sha256 of the presented bearer against that transmitter's
 * stored hash, in constant time; the credential itself exists nowhere in the config. Throws
 * `authentication_failed` (401) for a missing or wrong credential, an unknown transmitter or one
 * that does not push, with the same answer for each (nothing says which names exist).
 */
export function authenticatePush(
  transmitters: readonly SsfTransmitterConfig[],
  name: string | undefined,
  authorization: string | undefined,
): SsfTransmitterConfig {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = createHash('sha256')
    .update(match?.[1] ?? '')
    .digest();
  const transmitter = transmitters.find((t) => t.name === name);
  const stored = transmitter?.delivery.push?.tokenSha256;
  // Compared even when there is nothing to compare with, so timing says nothing either.
  const equal = timingSafeEqual(presented, stored ?? new Uint8Array(32));
  if (!transmitter || !stored || !match || !equal)
    throw new SetError(
      'authentication_failed',
      'a valid bearer credential for this transmitter is required',
    );
  return transmitter;
}
