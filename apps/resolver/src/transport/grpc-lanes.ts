import { Injectable } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';

/**
 * A unary method's answer from memory: the response message, or undefined when the call must
 * take Nest's full call path (the handler, its filters, the one error path). A lane decides
 * nothing: it only asks the use case for an answer it already has.
 */
export type GrpcLane = (request: unknown, metadata: Metadata, call: unknown) => object | undefined;

/**
 * The lanes of the gRPC methods that have one, by the method's path
 * (`/identity.v1.SubjectResolver/ResolveSubject`). Features add theirs when they are built; the
 * plaintext server (ResolverGrpcServer) puts each in front of its method when it creates the
 * services, after the malformed-request check. Every gateway and backend call is one of these
 * methods, and nearly all carry a token the resolver has seen whose user is cached: for those,
 * Nest's call path (context creation, pipes, guards, interceptors, the exception zone, two
 * promise hops) cost more than the answer (README "Performance").
 */
@Injectable()
export class GrpcLanes {
  private readonly lanes = new Map<string, GrpcLane>();

  add(path: string, lane: GrpcLane): void {
    if (this.lanes.has(path)) throw new Error(`a gRPC lane for ${path} is already added`);
    this.lanes.set(path, lane);
  }

  of(path: string): GrpcLane | undefined {
    return this.lanes.get(path);
  }
}

/**
 * Responses sent many times, by identity: a repeated token's answer is one shared object (see
 * {@link sentAgain}), and its protobuf encoding is kept beside it here once made. `null`: marked,
 * not yet encoded. A WeakMap, so an answer and its bytes go when its cache entry does.
 */
const encodings = new WeakMap<object, Buffer | null>();

/**
 * Marks a shared response as sent again and again, so the server encodes it once (protobuf
 * encoding was about a sixth of what a warm call allocated, in a sampling heap profile of
 * warm ResolveSubject). Only for a response that is never mutated after it is shared.
 */
export function sentAgain<T extends object>(response: T): T {
  if (!encodings.has(response)) encodings.set(response, null);
  return response;
}

type Serialize = (value: unknown) => Buffer;
const keeping = new WeakSet<Serialize>();

/**
 * A method's response serializer that keeps the encoding of every response marked
 * {@link sentAgain}, and encodes everything else as before. The kept bytes are a copy in their
 * own memory: the encoder's buffer may be a slice of a shared pool, which keeping would pin.
 */
export function keepingEncodings(serialize: Serialize): Serialize {
  if (keeping.has(serialize)) return serialize;
  const serializer: Serialize = (value) => {
    const kept = typeof value === 'object' && value !== null ? encodings.get(value) : undefined;
    if (kept) return kept;
    const bytes = serialize(value);
    if (kept !== null) return bytes;
    const own = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(own);
    encodings.set(value as object, own);
    return own;
  };
  keeping.add(serializer);
  return serializer;
}
