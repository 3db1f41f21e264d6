import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';

/** Health stays open so kubelet probes and load balancers need no token. */
const OPEN_PREFIX = '/grpc.health.v1.Health/';

/**
 * Set by the interceptor on the calls it let through, after removing any a client sent:
 * "admin-token" or "caller-token". A handler may trust it only when the interceptor is
 * installed, which it is whenever a token is configured.
 */
export const PRINCIPAL_HEADER = 'x-dingtalk-gateway-principal';

/** The refusal of an admin method where no administrator credential is configured. */
export const NO_ADMIN =
  'changing settings needs the administrator credential, and none is configured: set ADMIN_TOKEN (or ADMIN_TOKEN_FILE)';

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

export interface AuthOptions {
  /** The identity server's token: every call but health (and admin methods) needs it, or the admin token. */
  callerToken?: string;
  /** The administrator's token: the only credential admin methods accept. */
  adminToken?: string;
  /** Full method paths only the administrator may call, e.g. /dingtalk.gateway.v1.VerificationService/UpdateConfig. */
  adminMethods: ReadonlySet<string>;
}

/**
 * Checks `authorization: Bearer <token>`. Both sides are hashed before the constant-time
 * comparison, so neither a token's length nor its prefix leaks through timing, and a
 * refusal says nothing about the token. An admin method with the caller's token is
 * PERMISSION_DENIED (a valid credential, the wrong role); no or a wrong token is
 * UNAUTHENTICATED. The administrator may call everything.
 */
export function bearerTokenInterceptor(options: AuthOptions): ServerInterceptor {
  const caller = options.callerToken === undefined ? undefined : sha256(`Bearer ${options.callerToken}`);
  const admin = options.adminToken === undefined ? undefined : sha256(`Bearer ${options.adminToken}`);
  const matches = (presented: Buffer | undefined, expected: Buffer | undefined) =>
    presented !== undefined && expected !== undefined && timingSafeEqual(presented, expected);

  return (method, call) => {
    if (method.path.startsWith(OPEN_PREFIX)) return new ServerInterceptingCall(call);
    const adminOnly = options.adminMethods.has(method.path);
    const refuse = (code: status, details: string) =>
      call.sendStatus({ code, details, metadata: new Metadata() });
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const raw = metadata.get('authorization')[0];
            const presented = typeof raw === 'string' ? sha256(raw) : undefined;
            metadata.remove('authorization');
            metadata.remove(PRINCIPAL_HEADER);
            const isAdmin = matches(presented, admin);
            const isCaller = !isAdmin && matches(presented, caller);
            if (adminOnly && !isAdmin) {
              if (admin === undefined) return refuse(status.PERMISSION_DENIED, NO_ADMIN);
              if (isCaller)
                return refuse(
                  status.PERMISSION_DENIED,
                  'changing settings needs the administrator credential; the caller token may not',
                );
              return refuse(status.UNAUTHENTICATED, 'missing or invalid bearer token');
            }
            if (!isAdmin && !isCaller && caller !== undefined)
              return refuse(status.UNAUTHENTICATED, 'missing or invalid bearer token');
            if (isAdmin || isCaller) metadata.set(PRINCIPAL_HEADER, isAdmin ? 'admin-token' : 'caller-token');
            proceed(metadata);
          },
        }),
    });
  };
}
