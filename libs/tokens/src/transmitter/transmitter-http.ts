import { checkJsonStructure, ownData } from '../compact-token';

/** Largest answer read from a transmitter (discovery, stream configuration, a poll response). */
export const MAX_TRANSMITTER_RESPONSE_BYTES = 1_048_576;

/**
 * Why a call to a transmitter failed: it could not be reached or timed out (`unreachable`),
 * answered with an error status (`status`, with the status), or sent something this receiver
 * will not read (`malformed`: too large, not JSON, the wrong shape, another issuer).
 */
export type TransmitterFailure = 'unreachable' | 'status' | 'malformed';

/** A failed call to a transmitter. Its message names the endpoint and never a credential. */
export class TransmitterError extends Error {
  override readonly name = 'TransmitterError';
  constructor(
    readonly failure: TransmitterFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface TransmitterRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  readonly url: string;
  /** The `Authorization` header value (e.g. `Bearer …`); never logged, never in an error. */
  readonly authorization?: string;
  readonly body?: unknown;
  readonly timeoutMs: number;
}

export interface TransmitterResponse {
  readonly status: number;
  /** The parsed JSON (objects without a prototype), or undefined for an empty body. */
  readonly body: unknown;
}

/** How a request reaches a transmitter (replaced in unit specs). */
export type TransmitterFetch = (request: TransmitterRequest) => Promise<TransmitterResponse>;

/**
 * One JSON request to a transmitter: a hard timeout, no redirects (a redirect could carry the
 * credential elsewhere), the answer read up to {@link MAX_TRANSMITTER_RESPONSE_BYTES} and parsed
 * with bounded depth and no duplicate members into objects without a prototype. A 2xx answer is
 * returned; anything else is a {@link TransmitterError}.
 */
export const transmitterFetch: TransmitterFetch = async (request) => {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.authorization !== undefined) headers.authorization = request.authorization;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const what = `${request.method} ${request.url}`;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      redirect: 'error',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    const cause =
      error instanceof Error
        ? error.name === 'TimeoutError'
          ? 'timed out'
          : error.message
        : 'failed';
    throw new TransmitterError('unreachable', `${what}: ${cause}`);
  }
  const text = await readBounded(response, what);
  if (response.status < 200 || response.status > 299)
    throw new TransmitterError('status', `${what}: HTTP ${response.status}`, response.status);
  return { status: response.status, body: text === '' ? undefined : parseJson(text, what) };
};

async function readBounded(response: Response, what: string): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_TRANSMITTER_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw new TransmitterError('malformed', `${what}: answer larger than 1 MiB`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_TRANSMITTER_RESPONSE_BYTES) {
        await response.body?.cancel().catch(() => undefined);
        throw new TransmitterError('malformed', `${what}: answer larger than 1 MiB`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof TransmitterError) throw error;
    throw new TransmitterError('unreachable', `${what}: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, what: string): unknown {
  try {
    checkJsonStructure(text, 'the answer');
    return ownData(JSON.parse(text));
  } catch {
    throw new TransmitterError('malformed', `${what}: the answer is not JSON this receiver reads`);
  }
}

/** A member of untrusted JSON, own properties only (the objects come from {@link ownData}). */
export function member(value: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
