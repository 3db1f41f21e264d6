import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';

/** Health stays open so kubelet probes and load balancers need no token. */
const OPEN_PREFIX = '/grpc.health.v1.Health/';

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Requires `authorization: Bearer <token>` on every call except health checks.
 * Both sides are hashed before the constant-time comparison, so neither the
 * token's length nor its prefix leaks through timing; the refusal says nothing
 * about the token.
 */
export function bearerTokenInterceptor(token: string): ServerInterceptor {
  const expected = sha256(`Bearer ${token}`);
  return (method, call) => {
    if (method.path.startsWith(OPEN_PREFIX)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, proceed) => {
            const presented = metadata.get('authorization')[0];
            if (typeof presented === 'string' && timingSafeEqual(sha256(presented), expected)) {
              metadata.remove('authorization');
              proceed(metadata);
            } else {
              call.sendStatus({
                code: status.UNAUTHENTICATED,
                details: 'missing or invalid bearer token',
                metadata: new Metadata(),
              });
            }
          },
        }),
    });
  };
}
