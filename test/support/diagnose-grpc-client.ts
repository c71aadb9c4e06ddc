import { credentials, Metadata } from '@grpc/grpc-js';
import type { DiagnoseSubjectRequest, SubjectResolverClient } from '@resolver/contract';
import { loadGrpcPackages } from './grpc-packages';

export type DiagnoseResult =
  { ok: true; response: Record<string, any> } | { ok: false; code: number; message: string };

/** identity.v1.SubjectResolver/DiagnoseSubject with the admin credential in the metadata. */
export class DiagnoseGrpcClient {
  private readonly client: SubjectResolverClient;

  constructor(address: string) {
    const pkg = loadGrpcPackages();
    this.client = new pkg.identity.v1.SubjectResolver(address, credentials.createInsecure());
  }

  /** `request`: the token alone, or the whole request (scheme, DPoP proof, method, URI, ...). */
  diagnose(request: string | DiagnoseSubjectRequest, adminToken?: string): Promise<DiagnoseResult> {
    const metadata = new Metadata();
    if (adminToken !== undefined) metadata.set('authorization', `Bearer ${adminToken}`);
    const message = typeof request === 'string' ? { token: request } : request;
    return new Promise((resolve) => {
      this.client.DiagnoseSubject(message, metadata, (error, res) =>
        resolve(
          error
            ? { ok: false, code: error.code, message: error.details }
            : { ok: true, response: res ?? {} },
        ),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
