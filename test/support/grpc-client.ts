import { type ChannelCredentials, credentials, Metadata } from '@grpc/grpc-js';
import { decodeErrorInfo, type SubjectResolverClient } from '@resolver/contract';
import { loadGrpcPackages } from './grpc-packages';

export type GrpcResult =
  | { ok: true; response: Record<string, any> }
  | { ok: false; code: number; message: string; reason?: string; domain?: string };

/** A real @grpc/grpc-js client for identity.v1.SubjectResolver, built from the shared options. */
export class ResolverGrpcClient {
  private readonly client: SubjectResolverClient;

  constructor(address: string, channel: ChannelCredentials = credentials.createInsecure()) {
    const pkg = loadGrpcPackages();
    this.client = new pkg.identity.v1.SubjectResolver(address, channel);
  }

  resolve(request: {
    token?: string;
    authorization?: string;
    metadata?: Record<string, string>;
  }): Promise<GrpcResult> {
    const metadata = new Metadata();
    if (request.authorization !== undefined) metadata.set('authorization', request.authorization);
    for (const [key, value] of Object.entries(request.metadata ?? {})) metadata.set(key, value);
    return new Promise((resolve) => {
      this.client.ResolveSubject({ token: request.token ?? '' }, metadata, (error, response) => {
        if (!error) return resolve({ ok: true, response: response ?? {} });
        const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
        const info = Buffer.isBuffer(bin) ? decodeErrorInfo(bin) : undefined;
        resolve({
          ok: false,
          code: error.code,
          message: error.details,
          reason: info?.reason,
          domain: info?.domain,
        });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
