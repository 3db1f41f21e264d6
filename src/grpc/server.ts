import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { bearerTokenInterceptor } from './auth';
import { addReflection, indexDescriptorSet, REFLECTION_SERVICE_NAMES } from './reflection';
import { DESCRIPTOR_SET_BASE64 } from '../gen/descriptors';
import { BindingServiceService, type BindingServiceServer } from '../gen/dingtalk/gateway/v1/binding';
import {
  VerificationServiceService,
  type VerificationServiceServer,
} from '../gen/dingtalk/gateway/v1/verification';

/** Methods only the administrator credential may call. */
export const ADMIN_METHODS: ReadonlySet<string> = new Set([
  '/dingtalk.gateway.v1.VerificationService/UpdateConfig',
]);

export const SERVICE_NAMES = [
  'dingtalk.gateway.v1.VerificationService',
  'dingtalk.gateway.v1.BindingService',
] as const;

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';

/**
 * The health name of the DingTalk dependency: NOT_SERVING while the gateway has stopped
 * calling DingTalk after repeated outages. The server itself ('') stays SERVING then,
 * since VerifyCode and bindings still work: liveness probes must not restart it.
 */
export const DINGTALK_HEALTH_NAME = 'dingtalk';

export interface GrpcServerHandle {
  server: grpc.Server;
  health: HealthImplementation;
  /** The bound address: host:port, or unix:/path. */
  address: string;
  port: number;
  setServing(serving: boolean): void;
  /** Reports the DingTalk dependency under DINGTALK_HEALTH_NAME. */
  setDingTalkUp(up: boolean): void;
  /** Stops accepting calls, lets in-flight calls finish for up to graceMs, then forces. */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Builds and binds the gRPC server: our two services, grpc.health.v1 and server
 * reflection v1 and v1alpha (serving the buf-built descriptors of all of them, so
 * grpcurl needs no proto files).
 */
export async function startGrpcServer(options: {
  address: string;
  verification: VerificationServiceServer;
  binding: BindingServiceServer;
  /** Server TLS; with clientCa, mutual TLS. */
  tls?: { cert: Buffer; key: Buffer; clientCa: Buffer | undefined };
  /** Bearer token required on every call but health. */
  authToken?: string;
  /** Bearer token of the administrator, the only credential UpdateConfig accepts. */
  adminToken?: string;
}): Promise<GrpcServerHandle> {
  const server = new grpc.Server({
    // Our largest request is far below 4 KiB; refuse anything bigger than this before decoding it.
    'grpc.max_receive_message_length': 16 * 1024,
    // Without tokens no interceptor runs (VerifyCode pays nothing), and UpdateConfig refuses itself.
    interceptors:
      options.authToken || options.adminToken
        ? [
            bearerTokenInterceptor({
              callerToken: options.authToken,
              adminToken: options.adminToken,
              adminMethods: ADMIN_METHODS,
            }),
          ]
        : [],
  });
  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(
        options.tls.clientCa ?? null,
        [{ private_key: options.tls.key, cert_chain: options.tls.cert }],
        options.tls.clientCa !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  server.addService(VerificationServiceService, options.verification);
  server.addService(BindingServiceService, options.binding);

  const health = new HealthImplementation({
    '': 'NOT_SERVING',
    [SERVICE_NAMES[0]]: 'NOT_SERVING',
    [SERVICE_NAMES[1]]: 'NOT_SERVING',
    [DINGTALK_HEALTH_NAME]: 'SERVING',
  });
  health.addToServer(server);

  addReflection(server, indexDescriptorSet(Buffer.from(DESCRIPTOR_SET_BASE64, 'base64')), [
    ...SERVICE_NAMES,
    HEALTH_SERVICE_NAME,
    ...REFLECTION_SERVICE_NAMES,
  ]);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(options.address, credentials, (err, p) =>
      err ? reject(new Error(`cannot listen on ${options.address}: ${err.message}`)) : resolve(p),
    ),
  );
  const address = options.address.startsWith('unix:')
    ? options.address
    : options.address.replace(/:\d+$/, `:${port}`);

  const setServing = (serving: boolean) => {
    const s = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...SERVICE_NAMES]) health.setStatus(name, s);
  };

  const shutdown = (graceMs: number) =>
    new Promise<void>((resolve) => {
      setServing(false);
      const force = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });

  const setDingTalkUp = (up: boolean) =>
    health.setStatus(DINGTALK_HEALTH_NAME, up ? 'SERVING' : 'NOT_SERVING');

  return { server, health, address, port, setServing, setDingTalkUp, shutdown };
}
