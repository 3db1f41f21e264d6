import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { isGatewayFailure, type UpstreamKind } from '../domain/errors';

const UPSTREAM_STATUS: Record<UpstreamKind, status> = {
  busy: status.UNAVAILABLE,
  transport: status.UNAVAILABLE,
  bad_response: status.UNAVAILABLE,
  banned: status.UNAVAILABLE,
  token: status.UNAVAILABLE,
  unknown: status.UNAVAILABLE,
  circuit_open: status.UNAVAILABLE,
  rate_limit: status.RESOURCE_EXHAUSTED,
  quota: status.RESOURCE_EXHAUSTED,
  credentials: status.FAILED_PRECONDITION,
  permission: status.FAILED_PRECONDITION,
  ip_whitelist: status.FAILED_PRECONDITION,
  out_of_range: status.FAILED_PRECONDITION,
  recipient: status.FAILED_PRECONDITION,
  login_code: status.FAILED_PRECONDITION,
  invalid_parameter: status.INTERNAL,
};

export interface MappedStatus extends StatusObject {
  /** True when the error was not one of ours: log it with its stack. */
  unexpected: boolean;
}

/**
 * The one place errors become gRPC statuses. Our typed failures keep their
 * (caller-safe) message; anything else becomes INTERNAL "internal error" so no
 * stack or internal detail reaches the caller.
 */
export function toStatus(error: unknown, deadlinePassed = false): MappedStatus {
  const metadata = new Metadata();
  if (!isGatewayFailure(error)) {
    return { code: status.INTERNAL, details: 'internal error', metadata, unexpected: true };
  }
  const d = error.detail;
  switch (d.kind) {
    case 'invalid_argument':
      metadata.set('field', d.field);
      return { code: status.INVALID_ARGUMENT, details: d.message, metadata, unexpected: false };
    case 'not_bound':
    case 'disabled':
    case 'precondition':
      return { code: status.FAILED_PRECONDITION, details: d.message, metadata, unexpected: false };
    case 'conflict':
      return { code: status.ABORTED, details: d.message, metadata, unexpected: false };
    case 'permission_denied':
      return { code: status.PERMISSION_DENIED, details: d.message, metadata, unexpected: false };
    case 'not_found':
      return { code: status.NOT_FOUND, details: d.message, metadata, unexpected: false };
    case 'rate_limited':
      metadata.set('retry-after', retryAfterSeconds(d.retryAfterMs));
      return { code: status.RESOURCE_EXHAUSTED, details: d.message, metadata, unexpected: false };
    case 'store_unavailable':
      return { code: status.UNAVAILABLE, details: d.message, metadata, unexpected: false };
    case 'upstream':
      if (d.errcode) metadata.set('dingtalk-errcode', String(d.errcode));
      if (d.retryAfterMs !== undefined) metadata.set('retry-after', retryAfterSeconds(d.retryAfterMs));
      return { code: UPSTREAM_STATUS[d.upstream], details: d.message, metadata, unexpected: false };
    case 'cancelled':
      return {
        code: deadlinePassed ? status.DEADLINE_EXCEEDED : status.CANCELLED,
        details: deadlinePassed ? 'deadline exceeded' : d.message,
        metadata,
        unexpected: false,
      };
  }
}

const retryAfterSeconds = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));
