import type { ServiceError } from '@grpc/grpc-js';
import { fromBinary, fromJson, toBinary, toJson, type JsonValue, type Message } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import {
  channel,
  checkFlags,
  CODE_NAMES,
  errorText,
  Exit,
  fail,
  metadataOf,
  parseFlags,
  STATUS_CODE_OFFSET,
  usage,
  type Flags,
} from './grpcurl-flags';
import { describeDescriptor } from './proto-text';
import { ReflectionClient } from './reflection-client';

export interface GrpcurlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * A stand-in for grpcurl that knows nothing but what server reflection serves: no proto
 * files, no generated code. `argv` is what grpcurl would receive after shell word
 * splitting. Reflection goes through {@link ReflectionClient} and its strict linker, a call
 * is encoded and decoded with the linked schemas only, and output, errors and exit codes
 * follow grpcurl's: 0, 1 for a failure, 2 for a usage mistake, 64 + the status code for an
 * RPC error. `timeoutMs` bounds the whole run when `-max-time` does not (default 10 s).
 */
export async function runGrpcurl(
  argv: string[],
  options: { timeoutMs?: number } = {},
): Promise<GrpcurlResult> {
  const stdout: string[] = [];
  try {
    const { exitCode, stderr } = await run(
      argv,
      (line) => stdout.push(`${line}\n`),
      options.timeoutMs ?? 10_000,
    );
    return { exitCode, stdout: stdout.join(''), stderr };
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    return { exitCode: e.code, stdout: stdout.join(''), stderr: `${e.message}\n` };
  }
}

type Outcome = { exitCode: number; stderr: string };

async function run(argv: string[], print: (line: string) => void, timeoutMs: number): Promise<Outcome> {
  const { flags, args } = parseFlags(argv);
  checkFlags(flags);
  const target =
    args[0] !== undefined && args[0] !== 'list' && args[0] !== 'describe' ? args.shift() : undefined;
  if (args.length === 0) usage('Too few arguments.');
  const verb = args[0] === 'list' || args[0] === 'describe' ? args.shift()! : 'invoke';
  if (verb === 'invoke' && args.length === 0) usage('Too few arguments.');
  const symbol = args.shift()?.replace(/^\./, '');
  if (args.length > 0) usage('Too many arguments.');
  if (target === undefined)
    return usage('No host:port specified, no protoset specified, and no proto sources specified.');

  const deadline = new Date(Date.now() + (flags.maxTime ? flags.maxTime * 1000 : timeoutMs));
  const { creds, options } = channel(flags);
  const metadata = metadataOf(flags.headers);
  const reflection = new ReflectionClient(target, {
    credentials: creds,
    channelOptions: options,
    metadata,
    deadline,
  });
  try {
    if (verb === 'invoke') return await invoke(reflection, symbol!, flags, deadline, print);
    if (verb === 'list' && symbol === undefined) {
      const services = await reflection.listServices().catch((e) => fail('Failed to list services', e));
      [...services].sort().forEach(print);
      if (services.length === 0) print('(No services)');
    } else if (verb === 'list') {
      const failed = (e: unknown) => fail(`Failed to list methods for service "${symbol}"`, e);
      const { descriptor: d } = await reflection.resolveSymbol(symbol!).catch(failed);
      if (d.kind !== 'service') return failed(new Error(`Service not found: ${symbol}`));
      d.methods
        .map((m) => `${d.typeName}.${m.name}`)
        .sort()
        .forEach(print);
    } else {
      const names = symbol
        ? [symbol]
        : [...(await reflection.listServices().catch((e) => fail('Failed to list services', e)))].sort();
      for (const name of names) {
        const found = await reflection
          .resolveSymbol(name)
          .catch((e) => fail(`Failed to resolve symbol "${name}"`, e));
        const { name: full, kind, text } = describeDescriptor(found.descriptor);
        print(`${full} is ${kind}:\n${text}`);
      }
    }
    return { exitCode: 0, stderr: '' };
  } finally {
    reflection.close();
  }
}

async function invoke(
  reflection: ReflectionClient,
  method: string,
  flags: Flags,
  deadline: Date,
  print: (line: string) => void,
): Promise<Outcome> {
  const failed = (e: unknown) => fail(`Error invoking method "${method}"`, e);
  const split = method.includes('/') ? method.lastIndexOf('/') : method.lastIndexOf('.');
  if (split < 0)
    return failed(
      new Error(
        `given method name "${method}" is not in expected format: 'service/method' or 'service.method'`,
      ),
    );
  const [serviceName, methodName] = [method.slice(0, split), method.slice(split + 1)];
  const found = await reflection
    .resolveSymbol(serviceName)
    .catch((e) =>
      failed(new Error(`failed to query for service descriptor "${serviceName}": ${errorText(e)}`)),
    );
  const service = found.descriptor;
  if (service.kind !== 'service')
    return failed(new Error(`target server does not expose service "${serviceName}"`));
  const rpc = service.methods.find((m) => m.name === methodName);
  if (!rpc)
    return failed(new Error(`service "${serviceName}" does not include a method named "${methodName}"`));
  if (rpc.methodKind !== 'unary')
    return failed(new Error(`${rpc.methodKind} methods are not supported here`));

  let request: Message;
  try {
    const json: unknown = flags.data.trim() === '' ? {} : JSON.parse(flags.data);
    request = fromJson(rpc.input, json as JsonValue, { registry: found.registry });
  } catch (e) {
    return failed(new Error(`error getting request data: ${(e as Error).message}`));
  }

  const reply = await new Promise<{ err: ServiceError | null; bytes?: Buffer }>((resolve) =>
    reflection.client.makeUnaryRequest(
      `/${service.typeName}/${rpc.name}`,
      (m: Uint8Array) => Buffer.from(m),
      (b: Buffer) => b,
      toBinary(rpc.input, request),
      metadataOf(flags.headers),
      { deadline },
      (err, bytes) => resolve({ err, bytes }),
    ),
  );
  if (reply.err) {
    const { code, details } = reply.err;
    const stderr = `ERROR:\n  Code: ${CODE_NAMES[code]}\n  Message: ${details}\n`;
    return { exitCode: STATUS_CODE_OFFSET + code, stderr };
  }
  try {
    const response = fromBinary(rpc.output, reply.bytes!);
    assertKnownFields(reflect(rpc.output, response), rpc.output.typeName);
    const json = toJson(rpc.output, response, {
      alwaysEmitImplicit: flags.emitDefaults,
      registry: found.registry,
    });
    print(JSON.stringify(json, null, 2));
  } catch (e) {
    return failed(new Error(`cannot read the response: ${(e as Error).message}`));
  }
  return { exitCode: 0, stderr: '' };
}

/**
 * grpcurl would drop fields the schema does not know; here they mean the served descriptor
 * disagrees with what the server encodes, which is what this stand-in exists to catch.
 */
function assertKnownFields(m: ReflectMessage, path: string): void {
  const unknown = m.getUnknown();
  if (unknown?.length)
    throw new Error(
      `${path} has field number ${unknown[0].no}, which the served descriptor does not declare`,
    );
  for (const f of m.fields) {
    if (!m.isSet(f)) continue;
    const at = `${path}.${f.name}`;
    if (f.fieldKind === 'message') assertKnownFields(m.get(f), at);
    else if (f.fieldKind === 'list' && f.listKind === 'message')
      for (const item of m.get(f)) assertKnownFields(item as ReflectMessage, at);
    else if (f.fieldKind === 'map' && f.mapKind === 'message')
      for (const [, v] of m.get(f)) assertKnownFields(v as ReflectMessage, at);
  }
}
