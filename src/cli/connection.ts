import * as grpc from '@grpc/grpc-js';
import { dialTarget } from '../healthcheck';
import { stringOption, UsageError, type CommandLine } from './args';

/**
 * How dtg reaches the gateway: address, TLS, bearer token and deadline, resolved from the
 * flags and the environment. The token is read from the same variables the gateway reads
 * (AUTH_TOKEN, AUTH_TOKEN_FILE), so inside the gateway's container `dtg` needs no flags.
 * The token itself is kept in the call metadata only: no message here ever contains it.
 */

export const DEFAULT_ADDRESS = '127.0.0.1:50051';
export const DEFAULT_TIMEOUT_SECONDS = 10;

export interface Connection {
  address: string;
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  /** `authorization: Bearer …` when a token is configured, else empty. */
  metadata: grpc.Metadata;
  /** Where the token came from (`--token-file`, `AUTH_TOKEN`, …), for hints; never the token. */
  tokenSource: string | undefined;
  tls: boolean;
  timeoutMs: number;
}

/** What the process offers: its environment and a file reader. */
export interface Surroundings {
  env: Record<string, string | undefined>;
  readFile: (path: string) => Buffer;
}

/** Reads a file named by an option; an unreadable one is bad usage, reported with the path, not the contents. */
function fileOption(what: string, path: string, readFile: Surroundings['readFile']): Buffer {
  try {
    return readFile(path);
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** The bearer token and where it came from: flags first, then the gateway's own variables. */
function resolveToken(
  options: CommandLine['options'],
  { env, readFile }: Surroundings,
): { token: string; source: string } | undefined {
  const flag = stringOption(options, 'token');
  const flagFile = stringOption(options, 'token-file');
  if (flag !== undefined && flagFile !== undefined)
    throw new UsageError('--token and --token-file: give only one');
  let found: { token: string; source: string } | undefined;
  if (flagFile !== undefined)
    found = {
      token: fileOption('--token-file', flagFile, readFile).toString('utf8'),
      source: '--token-file',
    };
  else if (flag !== undefined) found = { token: flag, source: '--token' };
  else if (env.AUTH_TOKEN_FILE) {
    if (env.AUTH_TOKEN) throw new UsageError('AUTH_TOKEN and AUTH_TOKEN_FILE are both set: unset one');
    found = {
      token: fileOption('AUTH_TOKEN_FILE', env.AUTH_TOKEN_FILE, readFile).toString('utf8'),
      source: 'AUTH_TOKEN_FILE',
    };
  } else if (env.AUTH_TOKEN) found = { token: env.AUTH_TOKEN, source: 'AUTH_TOKEN' };
  if (!found) return undefined;
  // Trimmed as the gateway trims it, so a file ending in a newline works.
  const token = found.token.trim();
  if (token === '') throw new UsageError(`${found.source}: the token is empty`);
  // Checked here: grpc-js would refuse it with a message that quotes the value.
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new UsageError(`${found.source}: the token has characters a gRPC header cannot carry`);
  return { token, source: found.source };
}

/** Resolves every connection setting once, before any call, so bad combinations fail as usage errors. */
export function resolveConnection(options: CommandLine['options'], surroundings: Surroundings): Connection {
  const { env, readFile } = surroundings;
  const fromFlag = stringOption(options, 'address');
  // Inside the gateway's container LISTEN_ADDRESS says where it listens (0.0.0.0 is dialled on loopback).
  const [address, named] =
    fromFlag !== undefined
      ? [fromFlag.trim(), '--address']
      : env.DTG_ADDRESS?.trim()
        ? [env.DTG_ADDRESS.trim(), 'DTG_ADDRESS']
        : env.LISTEN_ADDRESS?.trim()
          ? [dialTarget(env.LISTEN_ADDRESS.trim()), 'LISTEN_ADDRESS']
          : [DEFAULT_ADDRESS, 'the default address'];
  if (!address.startsWith('unix:') && !/^.+:\d{1,5}$/.test(address))
    throw new UsageError(`${named}: expected host:port or unix:/path`);

  const timeoutText = stringOption(options, 'timeout');
  const seconds = timeoutText === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(timeoutText);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600 || timeoutText?.trim() === '')
    throw new UsageError('--timeout: expected a number of seconds above 0 and at most 3600');

  const ca = stringOption(options, 'ca');
  const cert = stringOption(options, 'cert');
  const key = stringOption(options, 'key');
  const serverName = stringOption(options, 'server-name');
  if ((cert === undefined) !== (key === undefined))
    throw new UsageError('--cert and --key: give both or neither');
  const tls = options.tls === true || ca !== undefined || cert !== undefined;
  if (serverName !== undefined && !tls)
    throw new UsageError('--server-name needs TLS: add --tls or --ca FILE');
  const credentials = tls
    ? grpc.credentials.createSsl(
        ca !== undefined ? fileOption('--ca', ca, readFile) : null,
        key !== undefined ? fileOption('--key', key, readFile) : null,
        cert !== undefined ? fileOption('--cert', cert, readFile) : null,
      )
    : grpc.credentials.createInsecure();
  const channelOptions: grpc.ChannelOptions = serverName
    ? { 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName }
    : {};

  const token = resolveToken(options, surroundings);
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token.token}`);
  return {
    address,
    credentials,
    channelOptions,
    metadata,
    tokenSource: token?.source,
    tls,
    timeoutMs: Math.round(seconds * 1000),
  };
}

type ClientConstructor<C> = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: Partial<grpc.ClientOptions>,
) => C;

type Done<Res> = (error: grpc.ServiceError | null, response: Res) => void;

/**
 * One unary call on a fresh client of the generated `Client` class, with the token and the
 * deadline; the client is closed when the call ends so the process can exit. `_response` is
 * the generated message of the response (it fixes the type the overloaded methods cannot).
 */
export function unary<C extends grpc.Client, Res>(
  connection: Connection,
  Client: ClientConstructor<C>,
  _response: { toJSON(message: Res): unknown },
  invoke: (
    client: C,
    metadata: grpc.Metadata,
    options: Partial<grpc.CallOptions>,
    done: Done<Res>,
  ) => unknown,
): Promise<Res> {
  const client = new Client(connection.address, connection.credentials, connection.channelOptions);
  return new Promise((resolve, reject) => {
    invoke(
      client,
      connection.metadata.clone(),
      { deadline: Date.now() + connection.timeoutMs },
      (error, res) => {
        client.close();
        if (error) reject(error);
        else resolve(res);
      },
    );
  });
}

export const isServiceError = (e: unknown): e is grpc.ServiceError =>
  e instanceof Error && typeof (e as grpc.ServiceError).code === 'number' && 'metadata' in e;

/** The trailers worth showing: when to retry, what DingTalk said, which field was wrong. */
const TRAILERS = ['retry-after', 'dingtalk-errcode', 'field'];

/**
 * Lines for stderr describing a failed call: the status name and the gateway's message,
 * the useful trailers, and a hint for the failures an operator can fix from here.
 */
export function describeRpcError(error: grpc.ServiceError, connection: Connection): string[] {
  const name = grpc.status[error.code] ?? `status ${error.code}`;
  // grpc-js's connection errors span lines and end in an empty "Resolution note:"; one line reads better.
  const details = (error.details || error.message)
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  const lines = [`dtg: ${name}: ${details}`];
  for (const trailer of TRAILERS) {
    const value = error.metadata?.get(trailer)[0];
    if (value !== undefined)
      lines.push(`dtg:   ${trailer}: ${String(value)}${trailer === 'retry-after' ? ' s' : ''}`);
  }
  const hint = hintFor(error, connection);
  if (hint) lines.push(`dtg: hint: ${hint}`);
  return lines;
}

function hintFor(error: grpc.ServiceError, c: Connection): string | undefined {
  const text = `${error.details} ${error.message}`;
  switch (error.code) {
    case grpc.status.UNAVAILABLE:
      if (/ECONNREFUSED|ENOENT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN/.test(text))
        return `nothing answered at ${c.address}; is the gateway running there? Set --address or DTG_ADDRESS to reach another one`;
      if (/certificate|SSL|TLS|handshake|altnames/i.test(text))
        return `the TLS handshake with ${c.address} failed; check --ca, --server-name, and --cert/--key if the gateway requires client certificates`;
      return c.tls
        ? `check that ${c.address} is the gateway and serves TLS, and --cert/--key if it requires client certificates`
        : `check that ${c.address} is the gateway; if it serves TLS, add --tls or --ca FILE`;
    case grpc.status.DEADLINE_EXCEEDED:
      return `no answer from ${c.address} within ${c.timeoutMs / 1000} s; --timeout SECONDS waits longer`;
    case grpc.status.UNAUTHENTICATED:
      return c.tokenSource
        ? `the gateway refused the bearer token from ${c.tokenSource}`
        : 'the gateway requires a bearer token: --token-file FILE, or AUTH_TOKEN / AUTH_TOKEN_FILE in the environment';
    default:
      return undefined;
  }
}
