import { type ChannelCredentials, credentials, Metadata } from '@grpc/grpc-js';
import { decodeErrorInfo, type SubjectResolverClient } from '@resolver/contract';
import { loadGrpcPackages } from './grpc-packages';

export type GrpcResult =
  | { ok: true; response: Record<string, any> }
  | {
      ok: false;
      code: number;
      message: string;
      reason?: string;
      domain?: string;
      /** The ErrorInfo metadata (a sender-bound token's refusal: www_authenticate). */
      info?: Record<string, string>;
    };

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
    /** The optional fields of a sender-bound token's request (dpopProof, method, uri, ...). */
    fields?: Record<string, string>;
  }): Promise<GrpcResult> {
    const metadata = new Metadata();
    if (request.authorization !== undefined) metadata.set('authorization', request.authorization);
    for (const [key, value] of Object.entries(request.metadata ?? {})) metadata.set(key, value);
    return new Promise((resolve) => {
      const message = { token: request.token ?? '', ...request.fields };
      this.client.ResolveSubject(message, metadata, (error, response) => {
        if (!error) return resolve({ ok: true, response: response ?? {} });
        const [bin] = error.metadata?.get('grpc-status-details-bin') ?? [];
        const info = Buffer.isBuffer(bin) ? decodeErrorInfo(bin) : undefined;
        resolve({
          ok: false,
          code: error.code,
          message: error.details,
          reason: info?.reason,
          domain: info?.domain,
          info: info?.metadata,
        });
      });
    });
  }

  close(): void {
    this.client.close();
  }
}
