import { Client, credentials, Metadata, status, type ClientDuplexStream } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, type FileRegistry } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { DESCRIPTOR_SET_BASE64 } from '../../src/gen/descriptors';
import { startGateway, type TestGateway } from '../helpers/gateway';
import {
  ReflectionClient,
  type ReflectionResponse,
  type ReflectionVersion,
} from '../helpers/reflection-client';
import { decodeResponse, encodeRequest, type ReflectionRequest } from '../helpers/reflection-wire';

/** What `buf build` produced: each file's bytes as they sit in the set, decoded, and all of them linked. */
const SET = Buffer.from(DESCRIPTOR_SET_BASE64, 'base64');
const BUILT = new Map<string, { bytes: Buffer; proto: FileDescriptorProto }>();
for (const r = new BinaryReader(SET); r.pos < r.len;) {
  const [field, wireType] = r.tag();
  if (field !== 1 || wireType !== WireType.LengthDelimited)
    throw new Error(`a FileDescriptorSet holds only files (field 1), not field ${field}`);
  const bytes = Buffer.from(r.bytes());
  const proto = fromBinary(FileDescriptorProtoSchema, bytes);
  BUILT.set(proto.name, { bytes, proto });
}
const REGISTRY: FileRegistry = createFileRegistry(fromBinary(FileDescriptorSetSchema, SET));

/** The file and its transitive imports, breadth first: what a fresh stream should send for it. */
function closure(name: string): string[] {
  const out: string[] = [];
  for (const queue = [name]; queue.length > 0;) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...BUILT.get(next)!.proto.dependency);
  }
  return out;
}

/** Every name file_containing_symbol must know, with the file defining it, enumerated from the set. */
function everySymbol(): Array<[string, string]> {
  const symbols: Array<[string, string]> = [];
  for (const d of REGISTRY) {
    const file = d.file.proto.name;
    symbols.push([d.typeName, file]);
    if (d.kind === 'service') for (const m of d.methods) symbols.push([`${d.typeName}.${m.name}`, file]);
    if (d.kind === 'message')
      for (const m of [...d.fields, ...d.oneofs]) symbols.push([`${d.typeName}.${m.name}`, file]);
    if (d.kind === 'enum') {
      const scope = d.typeName.slice(0, d.typeName.lastIndexOf('.') + 1);
      for (const v of d.values) symbols.push([`${scope}${v.name}`, file]);
    }
  }
  // The registry leaves out map entries; reflection must know them as protoc does.
  symbols.push(['grpc.health.v1.HealthListResponse.StatusesEntry', 'grpc/health/v1/health.proto']);
  return symbols;
}

const SERVICES: Record<string, string> = {
  'dingtalk.gateway.v1.BindingService': 'dingtalk/gateway/v1/binding.proto',
  'dingtalk.gateway.v1.VerificationService': 'dingtalk/gateway/v1/verification.proto',
  'grpc.health.v1.Health': 'grpc/health/v1/health.proto',
  'grpc.reflection.v1.ServerReflection': 'grpc/reflection/v1/reflection.proto',
  'grpc.reflection.v1alpha.ServerReflection': 'grpc/reflection/v1alpha/reflection.proto',
};
const VERSIONS: ReflectionVersion[] = ['v1', 'v1alpha'];
const names = (res: ReflectionResponse) =>
  (res.fileDescriptorProtos ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b).name);

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

function withClient<T>(version: ReflectionVersion, use: (c: ReflectionClient) => Promise<T>): Promise<T> {
  const client = new ReflectionClient(gw.app.grpc.address, { version });
  return use(client).finally(() => client.close());
}

describe.each(VERSIONS)('server reflection %s', (version) => {
  it('lists exactly the services the server has', async () => {
    const listed = await withClient(version, (c) => c.listServices());
    expect([...listed].sort()).toEqual(Object.keys(SERVICES));
  });

  it.each(Object.entries(SERVICES))('describes %s well enough for a strict linker', async (name, file) => {
    const found = await withClient(version, (c) => c.resolveSymbol(name));
    expect(found.file.name).toBe(file);
    const service = REGISTRY.getService(name)!;
    expect(found.descriptor.kind === 'service' && found.descriptor.methods.map((m) => m.name)).toEqual(
      service.methods.map((m) => m.name),
    );
  });

  it('serves every file, asked by name, byte for byte as buf built it, with its imports', async () => {
    const wrong: string[] = [];
    for (const name of BUILT.keys()) {
      const res = await withClient(version, (c) => c.request({ fileByFilename: name }));
      expect({ name, sent: names(res) }).toEqual({ name, sent: closure(name) });
      for (const served of res.fileDescriptorProtos!) {
        const file = fromBinary(FileDescriptorProtoSchema, served).name;
        if (!Buffer.from(served).equals(BUILT.get(file)!.bytes)) wrong.push(`${file}, sent for ${name}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('finds every service, method, message, field, oneof, enum and enum value in its file', async () => {
    const symbols = everySymbol();
    expect(symbols.map(([s]) => s)).toEqual(
      expect.arrayContaining([
        'dingtalk.gateway.v1.VerificationService.SendCode',
        'dingtalk.gateway.v1.SendCodeRequest.user_id',
        'dingtalk.gateway.v1.SCENARIO_LOGIN',
        'grpc.health.v1.HealthCheckResponse.ServingStatus',
        'grpc.health.v1.HealthCheckResponse.SERVING',
        'grpc.reflection.v1.ServerReflectionRequest.message_request',
      ]),
    );
    const misplaced: string[] = [];
    await withClient(version, async (c) => {
      for (const [symbol, file] of symbols) {
        const res = await c.request({ fileContainingSymbol: symbol });
        const first = res.fileDescriptorProtos?.[0];
        if (!first || !Buffer.from(first).equals(BUILT.get(file)!.bytes))
          misplaced.push(
            `${symbol}: ${first ? names(res)[0] : JSON.stringify(res.error)} instead of ${file}`,
          );
      }
    });
    expect(misplaced).toEqual([]);
  });
});

describe('server reflection', () => {
  it('sends a file first, then only the imports not yet sent on the stream', async () => {
    const verification = 'dingtalk/gateway/v1/verification.proto';
    await withClient('v1', async (c) => {
      const first = await c.request({ fileContainingSymbol: 'dingtalk.gateway.v1.VerificationService' });
      expect(names(first)).toEqual(closure(verification));
      const again = await c.request({ fileByFilename: 'google/protobuf/timestamp.proto' });
      expect(names(again)).toEqual(['google/protobuf/timestamp.proto']);
      const binding = await c.request({ fileContainingSymbol: 'dingtalk.gateway.v1.BindingService' });
      expect(names(binding)).toEqual(['dingtalk/gateway/v1/binding.proto']);
    });
    const fresh = await withClient('v1', (c) =>
      c.request({ fileByFilename: 'dingtalk/gateway/v1/binding.proto' }),
    );
    expect(names(fresh)).toEqual(['dingtalk/gateway/v1/binding.proto', 'google/protobuf/timestamp.proto']);
  });

  it('answers what it does not know in-band, NOT_FOUND naming it, and keeps the stream', async () => {
    await withClient('v1', async (c) => {
      const ask = async (req: ReflectionRequest) => (await c.request(req)).error;
      const notFound = (what: string) => ({ code: status.NOT_FOUND, message: expect.stringContaining(what) });
      expect(await ask({ fileContainingSymbol: 'dingtalk.gateway.v1.NoSuchThing' })).toEqual(
        notFound('"dingtalk.gateway.v1.NoSuchThing"'),
      );
      expect(await ask({ fileByFilename: 'no/such.proto' })).toEqual(notFound('"no/such.proto"'));
      expect(await ask({ allExtensionNumbersOfType: 'no.Such' })).toEqual(notFound('"no.Such"'));
      const extension = { containingType: 'dingtalk.gateway.v1.SendCodeRequest', extensionNumber: 100 };
      expect(await ask({ fileContainingExtension: extension })).toEqual(notFound('100'));
      const known = await c.request({ allExtensionNumbersOfType: 'dingtalk.gateway.v1.SendCodeRequest' });
      expect(known.allExtensionNumbers).toEqual({
        baseTypeName: 'dingtalk.gateway.v1.SendCodeRequest',
        extensionNumbers: [],
      });
      expect(await c.listServices()).toHaveLength(5);
    });
  });

  it('refuses a request that asks nothing with an in-band INVALID_ARGUMENT', async () => {
    const res = await withClient('v1', (c) => c.request({ host: 'h' }));
    expect(res.error).toEqual({ code: status.INVALID_ARGUMENT, message: expect.stringContaining('none of') });
  });

  it('echoes valid_host and original_request', async () => {
    const req = { host: 'gateway.example', fileContainingSymbol: 'grpc.health.v1.Health' };
    const res = await withClient('v1alpha', (c) => c.request(req));
    expect(res.validHost).toBe('gateway.example');
    expect(res.originalRequest).toEqual(req);
  });

  it('ends the stream cleanly when the client half-closes', async () => {
    const client = new Client(gw.app.grpc.address, credentials.createInsecure());
    const stream: ClientDuplexStream<ReflectionRequest, ReflectionResponse> = client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (r: ReflectionRequest) => Buffer.from(encodeRequest(r)),
      decodeResponse,
      new Metadata(),
    );
    const responses: ReflectionResponse[] = [];
    stream.on('data', (r: ReflectionResponse) => responses.push(r));
    const ended = new Promise<number>((resolve) => stream.on('status', (s) => resolve(s.code)));
    stream.write({ listServices: '' });
    stream.write({ fileByFilename: 'grpc/health/v1/health.proto' });
    stream.end();
    expect(await ended).toBe(status.OK);
    client.close();
    expect(responses.map((r) => (r.services ? 'services' : names(r)[0]))).toEqual([
      'services',
      'grpc/health/v1/health.proto',
    ]);
  });
});

describe('reflection behind a bearer token', () => {
  const TOKEN = 'reflection-token-0123456789';

  it('answers only a caller with the token, like every RPC but health', async () => {
    const secured = await startGateway({ AUTH_TOKEN: TOKEN });
    const list = (metadata?: Metadata) => {
      const c = new ReflectionClient(secured.app.grpc.address, { metadata });
      return c.listServices().finally(() => c.close());
    };
    try {
      await expect(list()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      const md = new Metadata();
      md.set('authorization', `Bearer ${TOKEN}`);
      expect(await list(md)).toHaveLength(5);
    } finally {
      await secured.stop();
    }
  });
});

describe('a cancelled reflection stream', () => {
  it('holds nothing: the server can shut down gracefully right after', async () => {
    const own = await startGateway();
    const client = new ReflectionClient(own.app.grpc.address);
    let shutDown = false;
    try {
      await client.listServices();
      own.app.grpc.server.tryShutdown(() => (shutDown = true));
      // The control: while the stream is open, a graceful shutdown waits for it.
      await new Promise((r) => setTimeout(r, 300));
      expect(shutDown).toBe(false);
      client.cancel();
      for (let i = 0; i < 40 && !shutDown; i++) await new Promise((r) => setTimeout(r, 50));
      expect(shutDown).toBe(true);
    } finally {
      client.close();
      await own.stop();
    }
  });
});
