/** Where a lane's failure travels with its request (a symbol: no client can set it). */
const LANE_FAULT = Symbol('laneFault');

/**
 * A lane that fails (a bug: a lane only answers what the use case has in memory) hands its
 * request to the full path with the error attached, and the full path throws it first, so the
 * bug is reported by the transport's one error path, counted once, exactly as if the route had
 * failed — never hidden by the full path answering the request after all.
 */
export function carryLaneFault(carrier: object, error: unknown): void {
  (carrier as { [LANE_FAULT]?: unknown })[LANE_FAULT] = error;
}

/** Throws the error a failed lane attached to `carrier`, if any (see {@link carryLaneFault}). */
export function throwLaneFault(carrier: unknown): void {
  if (typeof carrier !== 'object' || carrier === null || !(LANE_FAULT in carrier)) return;
  const error = (carrier as { [LANE_FAULT]?: unknown })[LANE_FAULT];
  delete (carrier as { [LANE_FAULT]?: unknown })[LANE_FAULT];
  throw error;
}
