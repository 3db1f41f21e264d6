import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  type ChannelCredentials,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import * as binding from '../../src/gen/dingtalk/gateway/v1/binding';
import { BindingServiceClient } from '../../src/gen/dingtalk/gateway/v1/binding';
import * as verification from '../../src/gen/dingtalk/gateway/v1/verification';
import { VerificationServiceClient } from '../../src/gen/dingtalk/gateway/v1/verification';

/**
 * Each method's request type: requests are completed with the proto3 defaults, so a
 * test names only the fields it cares about (as a client built on fromPartial does).
 */
const REQUESTS: Record<string, { fromPartial(o: object): unknown }> = {
  sendCode: verification.SendCodeRequest,
  deliverCode: verification.DeliverCodeRequest,
  verifyCode: verification.VerifyCodeRequest,
  getConfig: verification.GetConfigRequest,
  testScenario: verification.TestScenarioRequest,
  getDelivery: verification.GetDeliveryRequest,
  updateConfig: verification.UpdateConfigRequest,
  bindUser: binding.BindUserRequest,
  unbindUser: binding.UnbindUserRequest,
  getBinding: binding.GetBindingRequest,
  startDingTalkLogin: binding.StartDingTalkLoginRequest,
  completeDingTalkLogin: binding.CompleteDingTalkLoginRequest,
};

type Callback<Res> = (err: ServiceError | null, res: Res) => void;
type UnaryMethod<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline?: Date },
  cb: Callback<Res>,
) => unknown;

export interface CallOptions {
  metadata?: Record<string, string>;
  timeoutMs?: number;
  /** Cancels the call after this many ms (the server sees a cancellation). */
  cancelAfterMs?: number;
}

/** Wraps a generated grpc-js client so every unary method returns a promise; errors reject as ServiceError. */
export type Promisified<C> = {
  [K in keyof C as C[K] extends UnaryMethod<never, unknown> ? K : never]: C[K] extends UnaryMethod<
    infer Req,
    infer Res
  >
    ? (req: Partial<Req>, options?: CallOptions) => Promise<Res>
    : never;
};

function promisify<C extends Client>(client: C): Promisified<C> {
  return new Proxy({} as Promisified<C>, {
    get(_, name: string) {
      const method = (client as unknown as Record<string, UnaryMethod<unknown, unknown>>)[name];
      return (req: unknown, options: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          const md = new Metadata();
          for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
          const deadline = options.timeoutMs ? new Date(Date.now() + options.timeoutMs) : undefined;
          const full =
            req !== null && typeof req === 'object' ? (REQUESTS[name]?.fromPartial(req) ?? req) : req;
          const call = method.call(client, full, md, { deadline }, (err, res) =>
            err ? reject(err) : resolve(res),
          ) as {
            cancel(): void;
          };
          if (options.cancelAfterMs !== undefined) setTimeout(() => call.cancel(), options.cancelAfterMs);
        });
    },
  });
}

export interface Clients {
  verification: Promisified<VerificationServiceClient>;
  binding: Promisified<BindingServiceClient>;
  raw: { verification: VerificationServiceClient; binding: BindingServiceClient };
  close(): void;
}

/** Real grpc-js clients for the gateway at `address` (host:port or unix:/path). */
export function connect(address: string, creds: ChannelCredentials = credentials.createInsecure()): Clients {
  const v = new VerificationServiceClient(address, creds);
  const b = new BindingServiceClient(address, creds);
  return {
    verification: promisify(v),
    binding: promisify(b),
    raw: { verification: v, binding: b },
    close: () => {
      v.close();
      b.close();
    },
  };
}

/** Awaits a rejected call and returns its ServiceError (fails the test if the call succeeded). */
export async function rpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (e) {
    return e as ServiceError;
  }
  throw new Error('expected the call to fail');
}

/** grpc.health.v1 Check through a real client: 'SERVING', 'NOT_SERVING', … for `service` ('' = the server). */
export function healthStatus(
  address: string,
  service = '',
  creds: ChannelCredentials = credentials.createInsecure(),
): Promise<string> {
  const pkg = loadPackageDefinition(loadSync(healthProtoPath, { enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (a: string, c: ChannelCredentials) => HealthClient } } };
  };
  const client = new pkg.grpc.health.v1.Health(address, creds);
  return new Promise((resolve, reject) =>
    client.check({ service }, (e, r) => {
      client.close();
      return e ? reject(e) : resolve(r.status);
    }),
  );
}

interface HealthClient extends Client {
  check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void;
}
