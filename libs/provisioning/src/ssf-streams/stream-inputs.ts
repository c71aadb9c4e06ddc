import { z } from 'zod';

/** A transmitter's configured name in a path (`/admin/v1/ssf/streams/:name`). */
export const transmitterParam = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be a configured transmitter name');

/** POST …/status: the status to ask the transmitter for (SSF 1.0 §8.1.2.2). */
export const streamStatusInput = z.strictObject({
  status: z.enum(['enabled', 'paused', 'disabled']),
  reason: z.string().min(1).max(256).optional(),
});

/** POST …/verify: the state the `verification` event must echo; random when absent. */
export const verifyInput = z
  .strictObject({
    state: z
      .string()
      .regex(/^[\x21-\x7e]{1,128}$/, 'must be 1 to 128 printable ASCII characters')
      .optional(),
  })
  .prefault({});

export type StreamStatusInput = z.output<typeof streamStatusInput>;
export type VerifyInput = z.output<typeof verifyInput>;
