import * as protobuf from 'protobufjs';
import { PROTO_ROOT, protoFiles } from '@resolver/contract';

/** The gRPC methods the bench calls, by HTTP/2 path. */
export const GRPC_PATH = {
  resolve: '/identity.v1.SubjectResolver/ResolveSubject',
  check: '/envoy.service.auth.v3.Authorization/Check',
} as const;
export type GrpcMethodName = keyof typeof GRPC_PATH;

let root: protobuf.Root | undefined;
function types(): { resolve: protobuf.Type; check: protobuf.Type } {
  if (!root) {
    root = new protobuf.Root();
    // Imports (google/protobuf/*, envoy/*) resolve under the repository's proto root.
    root.resolvePath = (_origin, target) =>
      target.startsWith('/') ? target : `${PROTO_ROOT}/${target}`;
    root.loadSync(protoFiles(), { keepCase: true });
  }
  return {
    resolve: root.lookupType('identity.v1.ResolveSubjectRequest'),
    check: root.lookupType('envoy.service.auth.v3.CheckRequest'),
  };
}

/**
 * One length-prefixed gRPC message (1 byte "not compressed", 4 bytes big-endian length, the
 * protobuf body) carrying `token`: a ResolveSubjectRequest, or a CheckRequest whose HTTP request
 * has `authorization: Bearer <token>` (what Envoy sends). Prebuilt, so a C generator (h2load)
 * can send it as the request body.
 */
export function grpcFrame(method: GrpcMethodName, token: string): Buffer {
  const t = types();
  const body =
    method === 'resolve'
      ? t.resolve.encode(t.resolve.fromObject({ token })).finish()
      : t.check
          .encode(
            t.check.fromObject({
              attributes: {
                request: {
                  http: {
                    id: 'bench',
                    method: 'GET',
                    path: '/orders/42',
                    host: 'api.bench.local',
                    scheme: 'http',
                    headers: { authorization: `Bearer ${token}`, ':path': '/orders/42' },
                  },
                },
              },
            }),
          )
          .finish();
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}
