import type { ServerResponse } from 'node:http';
import { json, POLL, PUSH } from './ssf-events';
import type { SsfTransmitter, StreamState } from './ssf-transmitter';

/*
 * The transmitter fixture's stream management endpoints (SSF 1.0 §8.1): configuration, status,
 * verification. The receiver is already authenticated when these run.
 */

/** SSF 1.0 §8.1.1: create (POST), read (GET), update (PATCH), replace (PUT), delete. */
export function configurationEndpoint(
  tx: SsfTransmitter,
  method: string | undefined,
  url: URL,
  body: Record<string, unknown>,
  res: ServerResponse,
): void {
  const id = url.searchParams.get('stream_id') ?? (body.stream_id as string | undefined);
  if (method === 'POST') {
    if (tx.singleStream && tx.streams.size > 0) return json(res, 409, { error: 'stream_exists' });
    const delivery = (body.delivery ?? {}) as StreamState['delivery'];
    if (![PUSH, POLL].includes(delivery.method))
      return json(res, 400, { error: 'invalid_request', description: 'delivery.method' });
    return json(
      res,
      201,
      publicStream(
        tx.createStream({
          delivery,
          events_requested: body.events_requested as string[] | undefined,
          description: body.description as string | undefined,
        }),
      ),
    );
  }
  if (method === 'GET' && id === undefined)
    return json(
      res,
      200,
      [...tx.streams.values()].map((s) => publicStream(s)),
    );
  const stream = id === undefined ? undefined : tx.streams.get(id);
  if (!stream) return json(res, 404, { error: 'not_found' });
  if (method === 'GET') return json(res, 200, publicStream(stream));
  if (method === 'DELETE') {
    tx.removeStream(stream.stream_id);
    res.writeHead(204).end();
    return;
  }
  if (method === 'PATCH' || method === 'PUT') {
    if (Array.isArray(body.events_requested)) {
      stream.events_requested = body.events_requested as string[];
      stream.events_delivered = stream.events_requested.filter((t) =>
        stream.events_supported.includes(t),
      );
    }
    if (typeof body.description === 'string') stream.description = body.description;
    return json(res, 200, publicStream(stream));
  }
  json(res, 405, { error: 'method not allowed' });
}

/** SSF 1.0 §8.1.2: read (GET) or update (POST) a stream's status; an update emits stream-updated. */
export function statusEndpoint(
  tx: SsfTransmitter,
  method: string | undefined,
  url: URL,
  body: Record<string, unknown>,
  res: ServerResponse,
): void {
  const id = url.searchParams.get('stream_id') ?? (body.stream_id as string | undefined);
  const stream = id === undefined ? undefined : tx.streams.get(id);
  if (!stream) return json(res, 404, { error: 'not_found' });
  if (method === 'POST') {
    if (!['enabled', 'paused', 'disabled'].includes(body.status as string))
      return json(res, 400, { error: 'invalid_request', description: 'status' });
    tx.setStatus(stream.stream_id, body.status as StreamState['status'], body.reason as string);
  } else if (method !== 'GET') return json(res, 405, {});
  json(res, 200, {
    stream_id: stream.stream_id,
    status: stream.status,
    ...(stream.reason === undefined ? {} : { reason: stream.reason }),
  });
}

/** SSF 1.0 §8.1.4: 204, then a `verification` SET carrying the requested state. */
export async function verificationEndpoint(
  tx: SsfTransmitter,
  body: Record<string, unknown>,
  res: ServerResponse,
): Promise<void> {
  const stream = tx.streams.get(body.stream_id as string);
  if (!stream) return json(res, 404, { error: 'not_found' });
  const state = typeof body.state === 'string' ? { state: body.state } : {};
  await tx.emit(
    { type: 'verification', subject: { format: 'opaque', id: stream.stream_id }, payload: state },
    {},
    stream.stream_id,
  );
  res.writeHead(204).end();
}

/** A stream as the configuration endpoint shows it (its status is the status endpoint's). */
function publicStream(s: StreamState): Omit<StreamState, 'status' | 'reason'> {
  const { status: _status, reason: _reason, ...rest } = s;
  return rest;
}
