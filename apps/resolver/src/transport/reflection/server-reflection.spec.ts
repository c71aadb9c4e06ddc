import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { FileDescriptorProto, type IFileDescriptorProto } from 'protobufjs/ext/descriptor';
import { REFLECTED_SERVICES } from '../grpc-options';
import { DescriptorIndex, splitFileDescriptorSet } from './descriptor-index';
import { DESCRIPTOR_SET_PATH, ServerReflection } from './server-reflection';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..', '..', '..');

const decode = (bytes: Uint8Array) =>
  FileDescriptorProto.toObject(FileDescriptorProto.decode(bytes), {
    arrays: true,
  }) as IFileDescriptorProto;

describe('gRPC reflection from protoc descriptors', () => {
  const index = DescriptorIndex.load(DESCRIPTOR_SET_PATH);
  const reflection = new ServerReflection(index, REFLECTED_SERVICES);

  it('the committed descriptor set is what protoc makes of the .proto files now', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'descriptors-'));
    try {
      const fresh = join(dir, 'set.binpb');
      await run('bash', [join(ROOT, 'scripts/proto-descriptors.sh'), fresh]);
      const committed = await readFile(join(ROOT, 'proto/descriptor-set.binpb'));
      // Stale after a .proto change: run `npm run proto:descriptors` and commit the result.
      expect(Buffer.compare(await readFile(fresh), committed)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('describes every served service, health and reflection included', () => {
    expect(index.services).toEqual(expect.arrayContaining([...REFLECTED_SERVICES]));
    const answer = reflection.answer({ message_request: 'list_services', list_services: '*' });
    expect(answer.list_services_response).toEqual({
      service: REFLECTED_SERVICES.map((name) => ({ name })),
    });
  });

  it('answers file_containing_symbol with protoc names, map entries and dependencies', () => {
    const answer = reflection.answer({
      message_request: 'file_containing_symbol',
      file_containing_symbol: 'identity.v1.SubjectResolver',
    }) as { file_descriptor_response: { file_descriptor_proto: Uint8Array[] } };
    const files = answer.file_descriptor_response.file_descriptor_proto.map(decode);
    expect(files.map((f) => f.name)).toEqual([
      'identity/v1/resolver.proto',
      'google/protobuf/timestamp.proto',
    ]);
    const [resolver] = files;
    expect(resolver?.dependency).toEqual(['google/protobuf/timestamp.proto']);
    const principal = resolver?.messageType?.find((m) => m.name === 'Principal');
    expect(principal?.field?.map((f) => f.name)).toContain('display_name');
    expect(principal?.nestedType?.map((t) => [t.name, t.options?.mapEntry])).toEqual([
      ['AttributesEntry', true],
    ]);
  });

  it('resolves methods, nested types and enum values to their file; unknowns are NOT_FOUND', () => {
    expect(index.fileContaining('identity.v1.SubjectResolver.ResolveSubject')).toBe(
      'identity/v1/resolver.proto',
    );
    expect(index.fileContaining('.identity.v1.Principal.AttributesEntry')).toBe(
      'identity/v1/resolver.proto',
    );
    expect(index.fileContaining('identity.v1.CACHE')).toBe('identity/v1/resolver.proto');
    expect(index.fileContaining('grpc.health.v1.HealthCheckResponse.SERVING')).toBe(
      'grpc/health/v1/health.proto',
    );
    expect(
      reflection.answer({
        message_request: 'file_containing_symbol',
        file_containing_symbol: 'x.Y',
      }).error_response,
    ).toEqual({ error_code: status.NOT_FOUND, error_message: 'symbol x.Y not found' });
    expect(
      reflection.answer({ message_request: 'file_by_filename', file_by_filename: 'nope.proto' })
        .error_response,
    ).toMatchObject({ error_code: status.NOT_FOUND });
  });

  it('answers by file name with the transitive dependencies, each once', () => {
    const answer = reflection.answer({
      message_request: 'file_by_filename',
      file_by_filename: 'envoy/service/auth/v3/external_auth.proto',
    }) as { file_descriptor_response: { file_descriptor_proto: Uint8Array[] } };
    const names = answer.file_descriptor_response.file_descriptor_proto.map((b) => decode(b).name);
    expect(names[0]).toBe('envoy/service/auth/v3/external_auth.proto');
    expect(names).toEqual(
      expect.arrayContaining(['google/rpc/status.proto', 'google/protobuf/any.proto']),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('has no extensions to offer', () => {
    expect(
      reflection.answer({
        message_request: 'all_extension_numbers_of_type',
        all_extension_numbers_of_type: 'identity.v1.Principal',
      }).all_extension_numbers_response,
    ).toEqual({ base_type_name: 'identity.v1.Principal', extension_number: [] });
    expect(
      reflection.answer({
        message_request: 'file_containing_extension',
        file_containing_extension: {
          containing_type: 'identity.v1.Principal',
          extension_number: 9,
        },
      }).error_response,
    ).toMatchObject({ error_code: status.NOT_FOUND });
  });

  it('refuses to start with a set that lacks a served service', () => {
    expect(() => new ServerReflection(index, ['identity.v2.Nope'])).toThrow(
      /identity\.v2\.Nope not in the descriptor set/,
    );
  });

  it('splits a set into the exact bytes of each file and refuses anything else', () => {
    const set = new Uint8Array([0x0a, 0x02, 0x0a, 0x00, 0x0a, 0x00]);
    expect(splitFileDescriptorSet(set).map((f) => [...f])).toEqual([[0x0a, 0x00], []]);
    expect(() => splitFileDescriptorSet(new Uint8Array([0x12, 0x00]))).toThrow(/unexpected tag/);
    expect(() => splitFileDescriptorSet(new Uint8Array([0x0a, 0x05, 0x00]))).toThrow(/truncated/);
  });
});
