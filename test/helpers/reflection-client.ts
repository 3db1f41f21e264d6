import {
  Client,
  credentials,
  Metadata,
  status,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromBinary, type AnyDesc, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { linkFile } from './proto-link';
import {
  decodeResponse,
  encodeRequest,
  type ReflectionRequest,
  type ReflectionResponse,
} from './reflection-wire';

export { linkFile } from './proto-link';
export type { ReflectionRequest, ReflectionResponse } from './reflection-wire';

export type ReflectionVersion = 'v1' | 'v1alpha';

export interface ReflectionClientOptions {
  /**
   * Which of the two identical protocols to speak. Unset: v1, and v1alpha if the server
   * answers v1 with UNIMPLEMENTED before anything else, as grpcurl does.
   */
  version?: ReflectionVersion;
  credentials?: ChannelCredentials;
  channelOptions?: ChannelOptions;
  /** Sent with the reflection stream, e.g. `authorization`. */
  metadata?: Metadata;
  deadline?: Date;
}

/** The server answered a question with an in-band error_response. */
export class ReflectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ReflectionError';
  }
}

/** What a symbol resolved to: its descriptor, linked with everything its file imports. */
export interface ResolvedSymbol {
  descriptor: NamedDesc;
  registry: FileRegistry;
  /** The file the server named first, the one that should define the symbol. */
  file: FileDescriptorProto;
}

/**
 * A reflection client that trusts nothing but the wire: it fetches descriptors as grpcurl
 * does (the file of a symbol, then every missing import by name, transitively) over one
 * stream, and links them with {@link linkFile}. It encodes the reflection messages itself
 * from their field numbers, so it does not depend on the server's copy of reflection.proto.
 */
export class ReflectionClient {
  /** The channel the reflection stream runs on; calls to the services it describes can share it. */
  readonly client: Client;
  private stream?: ClientDuplexStream<ReflectionRequest, ReflectionResponse>;
  private version: ReflectionVersion;
  private answered = false;
  private readonly waiting: Array<{
    req: ReflectionRequest;
    resolve(r: ReflectionResponse): void;
    reject(e: Error): void;
  }> = [];
  private failure?: Error;
  /** Every file received on the stream: the server sends each dependency once per stream. */
  private readonly files = new Map<string, FileDescriptorProto>();

  constructor(
    address: string,
    private readonly options: ReflectionClientOptions = {},
  ) {
    this.client = new Client(
      address,
      options.credentials ?? credentials.createInsecure(),
      options.channelOptions,
    );
    this.version = options.version ?? 'v1';
  }

  /** Sends one request on the client's stream and resolves with its response (errors in-band included). */
  request(req: ReflectionRequest): Promise<ReflectionResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const stream = (this.stream ??= this.open());
    return new Promise((resolve, reject) => {
      this.waiting.push({ req, resolve, reject });
      stream.write(req);
    });
  }

  /** list_services: the names as the server sent them. */
  async listServices(): Promise<string[]> {
    return (await this.ask({ listServices: '' })).services ?? [];
  }

  /** Fetches the file defining `symbol` and its imports, links them strictly and finds the symbol. */
  async resolveSymbol(symbol: string): Promise<ResolvedSymbol> {
    const [file] = this.receive(await this.ask({ fileContainingSymbol: symbol }));
    if (!file) throw new Error(`the server sent no file for symbol "${symbol}"`);
    await this.fetchImports(file, new Set([file.name]));
    const registry = linkFile(file, this.files.values());
    const descriptor = findDescriptor(registry, symbol);
    const home = descriptor && ('file' in descriptor ? descriptor.file : descriptor.parent.file);
    if (home?.proto.name !== file.name)
      throw new Error(
        `the server sent "${file.name}" first for "${symbol}", which that file does not define`,
      );
    return { descriptor: descriptor!, registry, file };
  }

  /** Cancels the stream, as a client that gives up does; pending requests reject with CANCELLED. */
  cancel(): void {
    this.stream?.cancel();
  }

  /** Half-closes the stream (the server then ends it) and closes the channel. */
  close(): void {
    this.failure ??= new Error('the reflection client is closed');
    this.stream?.end();
    this.client.close();
  }

  private open(): ClientDuplexStream<ReflectionRequest, ReflectionResponse> {
    const path = `/grpc.reflection.${this.version}.ServerReflection/ServerReflectionInfo`;
    const stream = this.client.makeBidiStreamRequest(
      path,
      (req: ReflectionRequest) => Buffer.from(encodeRequest(req)),
      decodeResponse,
      this.options.metadata ?? new Metadata(),
      { deadline: this.options.deadline },
    );
    stream.on('data', (res: ReflectionResponse) => {
      this.answered = true;
      const asker = this.waiting.shift();
      if (asker) asker.resolve(res);
      else this.failure = new Error('the server sent a reflection response that nothing asked for');
    });
    stream.on('end', () => {
      this.failure ??= new Error('the server ended the reflection stream');
      for (const w of this.waiting.splice(0)) w.reject(this.failure);
    });
    stream.on('error', (err: ServiceError) => {
      if (
        err.code === status.UNIMPLEMENTED &&
        !this.answered &&
        !this.options.version &&
        this.version === 'v1'
      ) {
        this.version = 'v1alpha';
        const retry = (this.stream = this.open());
        for (const w of this.waiting) retry.write(w.req);
        return;
      }
      this.failure = err;
      for (const w of this.waiting.splice(0)) w.reject(err);
    });
    return stream;
  }

  private async ask(req: ReflectionRequest): Promise<ReflectionResponse> {
    const res = await this.request(req);
    if (res.error) throw new ReflectionError(res.error.code, res.error.message);
    return res;
  }

  private receive(res: ReflectionResponse): FileDescriptorProto[] {
    return (res.fileDescriptorProtos ?? []).map((bytes) => {
      const file = fromBinary(FileDescriptorProtoSchema, bytes);
      this.files.set(file.name, file);
      return file;
    });
  }

  private async fetchImports(file: FileDescriptorProto, visited: Set<string>): Promise<void> {
    for (const name of file.dependency) {
      if (visited.has(name)) continue;
      visited.add(name);
      if (!this.files.has(name)) {
        const sent = this.receive(await this.ask({ fileByFilename: name }));
        if (sent[0]?.name !== name)
          throw new Error(`asked for "${name}", the server sent "${sent[0]?.name ?? 'nothing'}"`);
      }
      await this.fetchImports(this.files.get(name)!, visited);
    }
  }
}

/** A descriptor of anything a symbol can name (every kind but a file). */
export type NamedDesc = Exclude<AnyDesc, { kind: 'file' }>;

/** Finds any element the reflection protocol can ask about: types, services, methods, fields, oneofs, enum values. */
function findDescriptor(registry: FileRegistry, name: string): NamedDesc | undefined {
  const found = registry.get(name);
  if (found) return found;
  const dot = name.lastIndexOf('.');
  const [parent, last] = [name.slice(0, dot), name.slice(dot + 1)];
  const container = registry.get(parent);
  if (container?.kind === 'service') return container.methods.find((m) => m.name === last);
  if (container?.kind === 'message')
    return [...container.fields, ...container.oneofs].find((m) => m.name === last);
  for (const desc of registry) {
    if (desc.kind !== 'enum' || desc.typeName.slice(0, desc.typeName.lastIndexOf('.')) !== parent) continue;
    const value = desc.values.find((v) => v.name === last);
    if (value) return value;
  }
  return undefined;
}
