import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { ConfigError, loadConfig } from './config';

/**
 * A container health check that needs no grpcurl: calls grpc.health.v1 Check on the
 * gateway this environment configures (LISTEN_ADDRESS, CONFIG_FILE, TLS_* resolved
 * exactly as the gateway resolves them) and exits 0 when it answers SERVING, 1 otherwise.
 * Health needs no bearer token. Prints one line; never prints a setting's value.
 *
 *   node dist/healthcheck.js [service]     (service defaults to '', the whole server)
 */

const TIMEOUT_MS = 3000;

/** Where to dial: a wildcard listen address is reached on loopback. */
export function dialTarget(listenAddress: string): string {
  if (listenAddress.startsWith('unix:')) return listenAddress;
  const i = listenAddress.lastIndexOf(':');
  const host = listenAddress.slice(0, i).replace(/^\[|\]$/g, '');
  const port = listenAddress.slice(i + 1);
  if (host === '0.0.0.0' || host === '' || host === '::') return `127.0.0.1:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: { status: string }) => void,
  ): void;
}

/** What checkHealth needs besides the address; the defaults are the container health check's. */
export interface HealthCheckOptions {
  /** The service to ask about; '' (the default) is the whole server. */
  service?: string;
  timeoutMs?: number;
  /** Channel options, e.g. a TLS name override. */
  channelOptions?: grpc.ChannelOptions;
}

/**
 * One grpc.health.v1 Check: resolves with the status name ('SERVING', 'NOT_SERVING', …) or
 * rejects with the call's ServiceError. Shared by this health check and the `dtg health` command,
 * so the health protocol is spoken in one place.
 */
export function checkHealth(
  address: string,
  creds: grpc.ChannelCredentials,
  { service = '', timeoutMs = TIMEOUT_MS, channelOptions }: HealthCheckOptions = {},
): Promise<string> {
  const pkg = grpc.loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: {
      health: {
        v1: {
          Health: new (address: string, c: grpc.ChannelCredentials, o?: grpc.ChannelOptions) => HealthClient;
        };
      };
    };
  };
  const client = new pkg.grpc.health.v1.Health(address, creds, channelOptions);
  return new Promise((resolve, reject) =>
    client.check({ service }, { deadline: Date.now() + timeoutMs }, (error, response) => {
      client.close();
      if (error) reject(error);
      else resolve(response.status);
    }),
  );
}

function check(): Promise<string> {
  const config = loadConfig({ env: process.env, readFile: (p) => readFileSync(p, 'utf8') });
  // This only reads the local server's health, so its certificate is not verified (it is
  // rarely issued for loopback); with mutual TLS the server's own certificate is presented.
  const creds = config.tls
    ? grpc.credentials.createSsl(
        config.tls.clientCa ?? null,
        config.tls.clientCa ? config.tls.key : null,
        config.tls.clientCa ? config.tls.cert : null,
        { rejectUnauthorized: false, checkServerIdentity: () => undefined },
      )
    : grpc.credentials.createInsecure();
  return checkHealth(dialTarget(config.listenAddress), creds, { service: process.argv[2] ?? '' });
}

if (require.main === module) {
  check().then(
    (status) => {
      process.stdout.write(`health: ${status}\n`);
      process.exit(status === 'SERVING' ? 0 : 1);
    },
    (e: unknown) => {
      const message = e instanceof ConfigError ? e.message : `health check failed: ${(e as Error).message}`;
      process.stderr.write(`${message}\n`);
      process.exit(1);
    },
  );
}
