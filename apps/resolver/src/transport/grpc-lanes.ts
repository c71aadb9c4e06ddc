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
