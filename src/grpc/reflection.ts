import {
  create,
  createFileRegistry,
  fromBinary,
  toBinary,
  type FileRegistry,
  type Message,
} from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { status, type Server, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';

/** Both versions of the protocol: grpcurl and grpc-go ask v1 first and fall back to v1alpha. */
export const REFLECTION_SERVICE_NAMES = [
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
] as const;

type SymbolKind = 'service' | 'method' | 'message' | 'field' | 'oneof' | 'enum' | 'enum value' | 'extension';

/** What reflection answers from, built once from a FileDescriptorSet. */
export interface DescriptorIndex {
  /** Each file's FileDescriptorProto exactly as encoded in the set, and its imports, by file name. */
  readonly files: ReadonlyMap<string, { bytes: Uint8Array; dependencies: readonly string[] }>;
  /** The file that defines each fully-qualified name, and what the name is. */
  readonly symbols: ReadonlyMap<string, { file: string; kind: SymbolKind }>;
  /** The set's files linked: the reflection messages are decoded and encoded with their schemas. */
  readonly registry: FileRegistry;
}

/**
 * Indexes a FileDescriptorSet (the output of `buf build`) for reflection. Each file is
 * sliced out of the set's wire format rather than decoded and re-encoded, so that clients
 * get what buf built, byte for byte: real names, imports, qualified type names, comments.
 * Throws when a file appears twice, a name is defined twice, or an import is missing,
 * since reflection would then serve descriptors no client can link.
 */
export function indexDescriptorSet(set: Uint8Array): DescriptorIndex {
  const files = new Map<string, { bytes: Uint8Array; dependencies: string[] }>();
  const symbols = new Map<string, { file: string; kind: SymbolKind }>();
  const reader = new BinaryReader(set);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field !== 1 || wireType !== WireType.LengthDelimited) {
      reader.skip(wireType, field);
      continue;
    }
    const bytes = reader.bytes();
    const file = fromBinary(FileDescriptorProtoSchema, bytes);
    if (files.has(file.name)) throw new Error(`the descriptor set contains ${file.name} twice`);
    files.set(file.name, { bytes, dependencies: file.dependency });
    for (const [name, kind] of definedNames(file)) {
      const other = symbols.get(name);
      if (other) throw new Error(`${name} is defined in both ${other.file} and ${file.name}`);
      symbols.set(name, { file: file.name, kind });
    }
  }
  for (const [name, { dependencies }] of files)
    for (const dep of dependencies)
      if (!files.has(dep)) throw new Error(`${name} imports ${dep}, which the descriptor set lacks`);
  return { files, symbols, registry: createFileRegistry(fromBinary(FileDescriptorSetSchema, set)) };
}

/** Every name a file defines, as file_containing_symbol may ask for it. */
function definedNames(file: FileDescriptorProto): Array<[string, SymbolKind]> {
  const names: Array<[string, SymbolKind]> = [];
  const scoped = (scope: string, name: string) => (scope ? `${scope}.${name}` : name);
  const extensions = (scope: string, list: FieldDescriptorProto[]) =>
    list.forEach((e) => names.push([scoped(scope, e.name), 'extension']));
  // An enum's values are scoped like the enum itself, not inside it.
  const enums = (scope: string, list: EnumDescriptorProto[]) =>
    list.forEach((e) => {
      names.push([scoped(scope, e.name), 'enum']);
      e.value.forEach((v) => names.push([scoped(scope, v.name), 'enum value']));
    });
  const messages = (scope: string, list: DescriptorProto[]) =>
    list.forEach((m) => {
      const name = scoped(scope, m.name);
      names.push([name, 'message']);
      m.field.forEach((f) => names.push([`${name}.${f.name}`, 'field']));
      m.oneofDecl.forEach((o) => names.push([`${name}.${o.name}`, 'oneof']));
      extensions(name, m.extension);
      messages(name, m.nestedType);
      enums(name, m.enumType);
    });
  messages(file.package, file.messageType);
  enums(file.package, file.enumType);
  extensions(file.package, file.extension);
  for (const s of file.service) {
    const name = scoped(file.package, s.name);
    names.push([name, 'service']);
    s.method.forEach((m) => names.push([`${name}.${m.name}`, 'method']));
  }
  return names;
}

/** ServerReflectionRequest as @bufbuild/protobuf decodes it (v1 and v1alpha have the same shape). */
interface ReflectionRequest extends Message {
  host: string;
  messageRequest:
    | {
        case: 'fileByFilename' | 'fileContainingSymbol' | 'allExtensionNumbersOfType' | 'listServices';
        value: string;
      }
    | { case: 'fileContainingExtension'; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

/** The message_response of a ServerReflectionResponse, as an initializer for create(). */
type Answer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'listServicesResponse'; value: { service: Array<{ name: string }> } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

const error = (code: status, errorMessage: string): Answer => ({
  case: 'errorResponse',
  value: { errorCode: code, errorMessage },
});

/**
 * A file and, after it, its transitive imports not yet sent on this stream (grpc-go's
 * behaviour): the file asked for always comes first, even when it was sent before.
 */
function withImports(index: DescriptorIndex, name: string, sent: Set<string>): Answer {
  const out: Uint8Array[] = [];
  const queue = [name];
  const visited = new Set<string>();
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    if (visited.has(next)) continue;
    visited.add(next);
    const file = index.files.get(next)!;
    if (out.length === 0 || !sent.has(next)) out.push(file.bytes);
    sent.add(next);
    queue.push(...file.dependencies);
  }
  return { case: 'fileDescriptorResponse', value: { fileDescriptorProto: out } };
}

/** Answers one request; `sent` is the stream's record of the files it has sent. */
function answer(
  index: DescriptorIndex,
  services: readonly string[],
  req: ReflectionRequest,
  sent: Set<string>,
): Answer {
  const isMessage = (name: string) => index.symbols.get(name)?.kind === 'message';
  const q = req.messageRequest;
  switch (q.case) {
    case 'fileByFilename':
      return index.files.has(q.value)
        ? withImports(index, q.value, sent)
        : error(status.NOT_FOUND, `file "${q.value}" not found`);
    case 'fileContainingSymbol': {
      const symbol = index.symbols.get(q.value);
      return symbol
        ? withImports(index, symbol.file, sent)
        : error(status.NOT_FOUND, `symbol "${q.value}" not found`);
    }
    case 'fileContainingExtension': {
      const { containingType, extensionNumber } = q.value;
      return isMessage(containingType)
        ? error(status.NOT_FOUND, `message "${containingType}" has no extension ${extensionNumber}`)
        : error(status.NOT_FOUND, `message "${containingType}" not found`);
    }
    case 'allExtensionNumbersOfType':
      return isMessage(q.value)
        ? { case: 'allExtensionNumbersResponse', value: { baseTypeName: q.value, extensionNumber: [] } }
        : error(status.NOT_FOUND, `message "${q.value}" not found`);
    case 'listServices':
      return { case: 'listServicesResponse', value: { service: services.map((name) => ({ name })) } };
    case undefined:
      return error(
        status.INVALID_ARGUMENT,
        'the request sets none of file_by_filename, file_containing_symbol, file_containing_extension, all_extension_numbers_of_type and list_services',
      );
  }
}

/**
 * Adds grpc.reflection.v1 and v1alpha to `server`, answering from `index`. `services` is
 * what list_services reports: the services registered on the server, each of which the
 * index must describe. Each stream remembers the files it has sent, and nothing else.
 */
export function addReflection(server: Server, index: DescriptorIndex, services: readonly string[]): void {
  for (const name of services)
    if (index.symbols.get(name)?.kind !== 'service')
      throw new Error(`reflection cannot describe ${name}: the descriptor set does not define that service`);
  for (const version of ['v1', 'v1alpha'] as const) {
    const schema = (name: string) => {
      const desc = index.registry.getMessage(`grpc.reflection.${version}.${name}`);
      if (!desc) throw new Error(`the descriptor set lacks grpc.reflection.${version}.${name}`);
      return desc;
    };
    const [request, response] = [schema('ServerReflectionRequest'), schema('ServerReflectionResponse')];
    const definition: ServiceDefinition = {
      serverReflectionInfo: {
        path: `/grpc.reflection.${version}.ServerReflection/ServerReflectionInfo`,
        requestStream: true,
        responseStream: true,
        requestSerialize: (m: ReflectionRequest) => Buffer.from(toBinary(request, m)),
        requestDeserialize: (b: Buffer) => fromBinary(request, b),
        responseSerialize: (m: Message) => Buffer.from(toBinary(response, m)),
        responseDeserialize: (b: Buffer) => fromBinary(response, b),
      },
    };
    server.addService(definition, {
      serverReflectionInfo: (call: ServerDuplexStream<ReflectionRequest, Message>) => {
        const sent = new Set<string>();
        call.on('data', (req: ReflectionRequest) =>
          call.write(
            create(response, {
              validHost: req.host,
              originalRequest: req,
              messageResponse: answer(index, services, req, sent),
            }),
          ),
        );
        call.on('end', () => call.end());
      },
    });
  }
}
