import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoFiles, RESOLVER_GRPC } from '../../apps/resolver/src/transport/grpc-options';

export type DiagnoseResult =
  { ok: true; response: Record<string, any> } | { ok: false; code: number; message: string };

/** identity.v1.SubjectResolver/DiagnoseSubject with the admin credential in the metadata. */
export class DiagnoseGrpcClient {
  private readonly client: any;

  constructor(address: string) {
    const definition = loadSync(protoFiles(), {
      ...RESOLVER_GRPC.loader,
      includeDirs: [...RESOLVER_GRPC.loader.includeDirs],
    });
    const pkg = loadPackageDefinition(definition) as any;
    this.client = new pkg.identity.v1.SubjectResolver(address, credentials.createInsecure());
  }

  diagnose(token: string, adminToken?: string): Promise<DiagnoseResult> {
    const metadata = new Metadata();
    if (adminToken !== undefined) metadata.set('authorization', `Bearer ${adminToken}`);
    return new Promise((resolve) => {
      this.client.DiagnoseSubject({ token }, metadata, (error: ServiceError | null, res: any) =>
        resolve(
          error
            ? { ok: false, code: error.code, message: error.details }
            : { ok: true, response: res },
        ),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}
