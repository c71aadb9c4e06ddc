import { credentials, Metadata } from '@grpc/grpc-js';
import type { SubjectResolverClient } from '@resolver/contract';
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

  diagnose(token: string, adminToken?: string): Promise<DiagnoseResult> {
    const metadata = new Metadata();
    if (adminToken !== undefined) metadata.set('authorization', `Bearer ${adminToken}`);
    return new Promise((resolve) => {
      this.client.DiagnoseSubject({ token }, metadata, (error, res) =>
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
