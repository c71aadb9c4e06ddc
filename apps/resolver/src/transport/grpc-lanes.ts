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
 * Responses sent many times: a repeated token's answer from the use case is one object (per
 * cached token and principal), and the response built for it is kept here by that answer's
 * identity, with its protobuf encoding once made. WeakMaps: a response and its bytes go when
 * the answer does (with its cache entry).
 */
const responses = new WeakMap<object, object>();
/** Each kept response's answer, so a response that cannot be encoded is forgotten. */
const answerOf = new WeakMap<object, object>();
const encodings = new WeakMap<object, Buffer>();

/**
 * The response for `answer`, built once by `build` and then sent as it is, encoded once by the
 * laned methods' serializer ({@link keepingEncodings}); protobuf encoding was about a sixth of
 * what a warm call allocated. The response must never be mutated once built. One whose encoding
 * fails is forgotten, so a fault is never kept: the next call builds it again.
 */
export function keptResponse<T extends object>(answer: object, build: () => T): T {
  let response = responses.get(answer) as T | undefined;
  if (!response) {
    response = build();
    responses.set(answer, response);
    answerOf.set(response, answer);
  }
  return response;
}

type Serialize = (value: unknown) => Buffer;
const keeping = new WeakSet<Serialize>();

/**
 * A method's response serializer that keeps the encoding of every kept response
 * ({@link keptResponse}), and encodes everything else as before. The kept bytes are a copy in
 * their own memory: the encoder's buffer may be a slice of a shared pool, which keeping would pin.
 */
export function keepingEncodings(serialize: Serialize): Serialize {
  if (keeping.has(serialize)) return serialize;
  const serializer: Serialize = (value) => {
    if (typeof value !== 'object' || value === null) return serialize(value);
    const kept = encodings.get(value);
    if (kept) return kept;
    const answer = answerOf.get(value);
    if (!answer) return serialize(value);
    let bytes: Buffer;
    try {
      bytes = serialize(value);
    } catch (error) {
      responses.delete(answer);
      answerOf.delete(value);
      throw error;
    }
    const own = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(own);
    encodings.set(value, own);
    return own;
  };
  keeping.add(serializer);
  return serializer;
}
