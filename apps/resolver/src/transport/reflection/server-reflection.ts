import { join } from 'node:path';
import {
  loadPackageDefinition,
  type Server,
  type ServerDuplexStream,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_ROOT } from '@resolver/contract';
import { DescriptorIndex } from './descriptor-index';

/** Where the build keeps protoc's descriptor set (`proto/` is copied into `dist/proto`). */
export const DESCRIPTOR_SET_PATH = join(PROTO_ROOT, 'descriptor-set.binpb');

/** The two reflection protocol versions clients speak: grpcurl and grpcui try v1, then v1alpha. */
const REFLECTION_VERSIONS = ['v1', 'v1alpha'] as const;

interface ReflectionRequest {
  host?: string;
  /** The oneof case proto-loader reports (`oneofs: true`). */
  message_request?:
    | 'file_by_filename'
    | 'file_containing_symbol'
    | 'file_containing_extension'
    | 'all_extension_numbers_of_type'
    | 'list_services';
  file_by_filename?: string;
  file_containing_symbol?: string;
  file_containing_extension?: { containing_type?: string; extension_number?: number };
  all_extension_numbers_of_type?: string;
  list_services?: string;
}

type ReflectionResponse = Record<string, unknown>;

/**
 * gRPC server reflection (`grpc.reflection.v1` and `v1alpha`) answered from protoc's descriptor
 * set instead of descriptors rebuilt by protobufjs: @grpc/reflection serves camelCase field
 * names, `Principal.Attributes` map entries and files without their dependencies, which Python's
 * descriptor_pool and grpcurl refuse. `served` are the services this server registers; each must
 * be described by the set (a stale set fails the boot rather than lie to clients).
 */
export class ServerReflection {
  constructor(
    private readonly index: DescriptorIndex,
    private readonly served: readonly string[],
  ) {
    const missing = served.filter((s) => !index.services.includes(s));
    if (missing.length)
      throw new Error(
        `reflection: ${missing.join(', ')} not in the descriptor set; run scripts/proto-descriptors.sh`,
      );
  }

  /** Registers both reflection services on `server`. */
  addToServer(server: Server): void {
    for (const version of REFLECTION_VERSIONS) {
      const definition = loadSync(join(PROTO_ROOT, `grpc/reflection/${version}/reflection.proto`), {
        keepCase: true,
        oneofs: true,
        includeDirs: [PROTO_ROOT],
      });
      const pkg = loadPackageDefinition(definition) as unknown as {
        grpc: { reflection: Record<string, { ServerReflection: { service: ServiceDefinition } }> };
      };
      const service = pkg.grpc.reflection[version]?.ServerReflection.service;
      if (!service) throw new Error(`reflection: grpc.reflection.${version} did not load`);
      server.addService(service, {
        ServerReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, ReflectionResponse>) => {
          call.on('data', (request: ReflectionRequest) => {
            call.write(this.answer(request));
          });
          call.on('end', () => call.end());
          // A client that goes away mid-stream is not an error of ours.
          call.on('error', () => undefined);
        },
      });
    }
  }

  /** One response per request, as the protocol requires; failures are `error_response`. */
  answer(request: ReflectionRequest): ReflectionResponse {
    const base = { valid_host: request.host ?? '', original_request: request };
    const error = (code: status, message: string) => ({
      ...base,
      error_response: { error_code: code, error_message: message },
    });
    const files = (name: string | undefined, what: string) => {
      const found = name === undefined ? undefined : this.index.fileWithDependencies(name);
      return found
        ? { ...base, file_descriptor_response: { file_descriptor_proto: found } }
        : error(status.NOT_FOUND, `${what} not found`);
    };
    switch (request.message_request) {
      case 'list_services':
        return {
          ...base,
          list_services_response: { service: this.served.map((name) => ({ name })) },
        };
      case 'file_by_filename':
        return files(request.file_by_filename, `file ${request.file_by_filename ?? ''}`);
      case 'file_containing_symbol': {
        const symbol = request.file_containing_symbol ?? '';
        return files(this.index.fileContaining(symbol), `symbol ${symbol}`);
      }
      case 'file_containing_extension': {
        // No served file declares extensions.
        const { containing_type = '', extension_number = 0 } =
          request.file_containing_extension ?? {};
        return error(
          status.NOT_FOUND,
          `no extension ${extension_number} of ${containing_type} is declared`,
        );
      }
      case 'all_extension_numbers_of_type': {
        const type = request.all_extension_numbers_of_type ?? '';
        return this.index.isMessage(type)
          ? {
              ...base,
              all_extension_numbers_response: {
                base_type_name: type.replace(/^\./, ''),
                extension_number: [],
              },
            }
          : error(status.NOT_FOUND, `message type ${type} not found`);
      }
      case undefined:
        return error(status.INVALID_ARGUMENT, 'no message_request set');
    }
  }
}
