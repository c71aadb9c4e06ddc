import { readFileSync } from 'node:fs';
import {
  FileDescriptorProto,
  type IDescriptorProto,
  type IFileDescriptorProto,
} from 'protobufjs/ext/descriptor';

/**
 * The FileDescriptorSet that protoc wrote from the real .proto files
 * (`scripts/proto-descriptors.sh`), indexed for server reflection: each file's exact bytes as
 * protoc encoded them (never re-encoded, so names, map entries, json names and dependencies are
 * protoc's), its transitive dependencies, and every symbol a client may ask for.
 */
export class DescriptorIndex {
  private readonly bytesByFile = new Map<string, Uint8Array>();
  private readonly depsByFile = new Map<string, string[]>();
  private readonly fileBySymbol = new Map<string, string>();
  private readonly messageTypes = new Set<string>();
  /** Fully-qualified names of every service described, in file order. */
  readonly services: string[] = [];

  constructor(set: Uint8Array) {
    for (const bytes of splitFileDescriptorSet(set)) {
      const file = FileDescriptorProto.toObject(FileDescriptorProto.decode(bytes), {
        arrays: true,
      }) as IFileDescriptorProto;
      const name = file.name ?? '';
      this.bytesByFile.set(name, bytes);
      this.depsByFile.set(name, (file.dependency as string[] | undefined) ?? []);
      this.indexFile(file, name);
    }
  }

  /** Reads the set from disk (`proto/descriptor-set.binpb`, copied into `dist/proto`). */
  static load(path: string): DescriptorIndex {
    return new DescriptorIndex(readFileSync(path));
  }

  /** The file, then its transitive dependencies (each once), or undefined for an unknown file. */
  fileWithDependencies(name: string): Uint8Array[] | undefined {
    if (!this.bytesByFile.has(name)) return undefined;
    const order: string[] = [];
    const visit = (file: string) => {
      if (order.includes(file)) return;
      order.push(file);
      for (const dep of this.depsByFile.get(file) ?? []) visit(dep);
    };
    visit(name);
    return order.flatMap((file) => {
      const bytes = this.bytesByFile.get(file);
      return bytes ? [bytes] : [];
    });
  }

  /** The file that declares a fully-qualified symbol (message, enum, service, method, field…). */
  fileContaining(symbol: string): string | undefined {
    return this.fileBySymbol.get(symbol.replace(/^\./, ''));
  }

  /** True when `name` is a message type of the set. */
  isMessage(name: string): boolean {
    return this.messageTypes.has(name.replace(/^\./, ''));
  }

  private indexFile(file: IFileDescriptorProto, name: string): void {
    const prefix = file.package ? `${file.package}.` : '';
    const add = (symbol: string) => {
      if (!this.fileBySymbol.has(symbol)) this.fileBySymbol.set(symbol, name);
    };
    const message = (type: IDescriptorProto, scope: string) => {
      const full = `${scope}${type.name ?? ''}`;
      add(full);
      this.messageTypes.add(full);
      for (const field of type.field ?? []) add(`${full}.${field.name ?? ''}`);
      for (const oneof of type.oneofDecl ?? []) add(`${full}.${oneof.name ?? ''}`);
      for (const e of type.enumType ?? []) {
        add(`${full}.${e.name ?? ''}`);
        for (const value of e.value ?? []) add(`${full}.${value.name ?? ''}`);
      }
      for (const nested of type.nestedType ?? []) message(nested, `${full}.`);
    };
    for (const type of file.messageType ?? []) message(type, prefix);
    for (const e of file.enumType ?? []) {
      add(`${prefix}${e.name ?? ''}`);
      // Enum values are scoped like siblings of their enum (C++ scoping rules).
      for (const value of e.value ?? []) add(`${prefix}${value.name ?? ''}`);
    }
    for (const service of file.service ?? []) {
      const full = `${prefix}${service.name ?? ''}`;
      add(full);
      this.services.push(full);
      for (const method of service.method ?? []) add(`${full}.${method.name ?? ''}`);
    }
  }
}

/**
 * The `file` entries (field 1, length-delimited) of a FileDescriptorSet, as the exact byte
 * ranges protoc wrote. Anything else in the set is a format error: better a boot failure than a
 * reflection answer a client cannot use.
 */
export function splitFileDescriptorSet(set: Uint8Array): Uint8Array[] {
  const files: Uint8Array[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (at >= set.length) throw new Error('descriptor set: truncated varint');
      const byte = set[at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (at < set.length) {
    const tag = varint();
    if (tag !== 0x0a) throw new Error(`descriptor set: unexpected tag ${tag} at byte ${at}`);
    const length = varint();
    if (at + length > set.length) throw new Error('descriptor set: truncated file entry');
    files.push(set.subarray(at, at + length));
    at += length;
  }
  return files;
}
