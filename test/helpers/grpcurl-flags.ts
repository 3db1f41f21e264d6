import { readFileSync } from 'node:fs';
import {
  credentials,
  Metadata,
  type ChannelCredentials,
  type ChannelOptions,
  type ServiceError,
} from '@grpc/grpc-js';

// grpcurl's command line as test/helpers/grpcurl.ts needs it: the flags, their checks
// against each other, what they make of the connection, and how grpcurl fails.

/** grpc-go's names of the status codes, as grpcurl prints them. */
export const CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];
/** grpcurl exits 64 + the status code when the RPC fails, so codes 1 and 2 stay its own. */
export const STATUS_CODE_OFFSET = 64;

/** Ends the run as grpcurl's fail() does: exit 1 with the cause, or 2 for a usage mistake. */
export class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
export const usage = (message: string): never => {
  throw new Exit(2, `${message}\nTry 'grpcurl -help' for more details.`);
};
/** A cause as grpc-go words it: "rpc error: code = … desc = …" for a status. */
export const errorText = (cause: unknown): string => {
  const grpc = cause as Partial<ServiceError>;
  return typeof grpc.code === 'number' && typeof grpc.details === 'string'
    ? `rpc error: code = ${CODE_NAMES[grpc.code]} desc = ${grpc.details}`
    : (cause as Error).message;
};
export const fail = (message: string, cause: unknown): never => {
  throw new Exit(1, `${message}: ${errorText(cause)}`);
};

export interface Flags {
  plaintext: boolean;
  insecure: boolean;
  emitDefaults: boolean;
  data: string;
  headers: string[];
  cacert?: string;
  cert?: string;
  key?: string;
  authority?: string;
  servername?: string;
  maxTime?: number;
}

const BOOLEAN_FLAGS = {
  plaintext: 'plaintext',
  insecure: 'insecure',
  'emit-defaults': 'emitDefaults',
} as const;
const STRING_FLAGS = {
  d: 'data',
  cacert: 'cacert',
  cert: 'cert',
  key: 'key',
  authority: 'authority',
  servername: 'servername',
} as const;

/** Go's flag package: flags first (-name, --name, -name=value, -name value), then the positional words. */
export function parseFlags(argv: string[]): { flags: Flags; args: string[] } {
  const flags: Flags = { plaintext: false, insecure: false, emitDefaults: false, data: '', headers: [] };
  let i = 0;
  for (; i < argv.length && argv[i].startsWith('-') && argv[i] !== '-'; i++) {
    if (argv[i] === '--') {
      i++;
      break;
    }
    const [name, inline] = argv[i].replace(/^--?/, '').split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () =>
      inline ?? (i + 1 < argv.length ? argv[++i] : usage(`flag needs an argument: -${name}`));
    if (name in BOOLEAN_FLAGS) {
      const v = inline ?? 'true';
      if (!/^(1|t|T|TRUE|true|True|0|f|F|FALSE|false|False)$/.test(v))
        usage(`invalid boolean value "${v}" for -${name}: parse error`);
      flags[BOOLEAN_FLAGS[name as keyof typeof BOOLEAN_FLAGS]] = /^(1|t|T|TRUE|true|True)$/.test(v);
    } else if (name in STRING_FLAGS) flags[STRING_FLAGS[name as keyof typeof STRING_FLAGS]] = value();
    else if (name === 'H') flags.headers.push(value());
    else if (name === 'max-time') {
      const v = value();
      flags.maxTime = Number(v);
      if (v.trim() === '' || Number.isNaN(flags.maxTime))
        usage(`invalid value "${v}" for flag -max-time: parse error`);
    } else usage(`flag provided but not defined: -${name}`);
  }
  return { flags, args: argv.slice(i) };
}

/** grpcurl's checks of the flags against each other. */
export function checkFlags(f: Flags): void {
  if (f.maxTime !== undefined && f.maxTime < 0) usage('The -max-time argument must not be negative.');
  if (f.plaintext && f.insecure) usage('The -insecure argument can only be used with TLS.');
  if (f.plaintext && f.cert) usage('The -cert argument can only be used with TLS.');
  if (f.plaintext && f.key) usage('The -key argument can only be used with TLS.');
  if (!f.cert !== !f.key) usage('The -cert and -key arguments must be used together and both be present.');
  if (!f.plaintext && f.servername && f.authority && f.servername !== f.authority)
    usage('Cannot specify different values for -servername and -authority.');
}

export function channel(f: Flags): { creds: ChannelCredentials; options: ChannelOptions } {
  if (f.plaintext)
    return {
      creds: credentials.createInsecure(),
      options: f.authority ? { 'grpc.default_authority': f.authority } : {},
    };
  const read = (file: string | undefined) => {
    try {
      return file === undefined ? null : readFileSync(file);
    } catch (e) {
      return fail('Failed to create TLS config', e);
    }
  };
  const skip = f.insecure ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {};
  const creds = credentials.createSsl(f.insecure ? null : read(f.cacert), read(f.key), read(f.cert), skip);
  // grpcurl's -servername, or else -authority, names the server both in :authority and in the certificate check.
  const name = f.servername || f.authority;
  const options = name ? { 'grpc.default_authority': name, 'grpc.ssl_target_name_override': name } : {};
  return { creds, options };
}

/** `-H 'name: value'` as grpcurl reads it; values of `-bin` headers are base64. */
export function metadataOf(headers: string[]): Metadata {
  const md = new Metadata();
  for (const h of headers) {
    const colon = h.indexOf(':');
    const name = (colon < 0 ? h : h.slice(0, colon)).trim().toLowerCase();
    const value = colon < 0 ? '' : h.slice(colon + 1).trimStart();
    if (name.endsWith('-bin')) md.add(name, Buffer.from(value, 'base64'));
    else md.add(name, value);
  }
  return md;
}
