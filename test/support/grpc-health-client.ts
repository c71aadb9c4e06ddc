import { join } from 'node:path';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';

const REFLECTION_PROTO = join(__dirname, '../../proto/grpc/reflection/v1/reflection.proto');

/** grpc.health.v1 Check and server reflection ListServices, as grpcurl / kubelet use them. */
export class HealthClient {
  private readonly health: any;
  private readonly reflection: any;

  constructor(address: string) {
    const pkg = loadPackageDefinition(
      loadSync([healthProto, REFLECTION_PROTO], { keepCase: true, enums: String }),
    ) as any;
    this.health = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
    this.reflection = new pkg.grpc.reflection.v1.ServerReflection(
      address,
      credentials.createInsecure(),
    );
  }

  check(service: string): Promise<string> {
    return new Promise((resolve, reject) =>
      this.health.Check({ service }, (error: ServiceError | null, res: { status: string }) =>
        error ? reject(error) : resolve(res.status),
      ),
    );
  }

  listServices(): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const call = this.reflection.ServerReflectionInfo();
      call.on('data', (res: { list_services_response?: { service: { name: string }[] } }) => {
        resolve((res.list_services_response?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '*' });
    });
  }

  close(): void {
    this.health.close();
    this.reflection.close();
  }
}
