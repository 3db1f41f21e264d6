/**
 * Typed errors of the gateway. Each is created by a named constructor and carries a
 * `kind`; the gRPC layer maps kinds to status codes in one place (grpc/status.ts).
 * Messages are safe to show to the caller: they never contain a code, a secret,
 * a token or a mobile number.
 */

/** Classes of DingTalk failures, after errcode 88 has been unwrapped. */
export type UpstreamKind =
  /** -1: system busy; retryable. */
  | 'busy'
  /** 40001/40014/42001: token invalid or expired (after the one refetch). */
  | 'token'
  /** 40035/400002: DingTalk rejected our parameters — a bug on our side. */
  | 'invalid_parameter'
  /** 40089/40096/invalidClientIdOrSecret: bad AppKey/AppSecret. */
  | 'credentials'
  /** 60011: the app lacks the permission for this API. */
  | 'permission'
  /** 60020: the caller's IP is not in the app's whitelist. */
  | 'ip_whitelist'
  /** 50002: the user is outside the app's authorised range. */
  | 'out_of_range'
  /** 60121/33012/40104: no such user, invalid userid, invalid mobile. */
  | 'recipient'
  /**
   * A DingTalk login's one-time code or user token was refused (HTTP 400/401 from
   * userAccessToken or users/me, 40078 from getuserinfo): invalid, expired or already used.
   */
  | 'login_code'
  /** 90002/90018: per-API rate limits; retryable after a pause. */
  | 'rate_limit'
  /** 90020: the organisation's monthly API quota is used up. */
  | 'quota'
  /** 45009/9000x, HTTP ban pages, `status: 1111`: throttled or banned. */
  | 'banned'
  /** Connection refused/reset, DNS, timeout, aborted. */
  | 'transport'
  /** A body that is not the JSON expected, or an unexpected HTTP status. */
  | 'bad_response'
  /** Any other non-zero errcode. */
  | 'unknown'
  /** The gateway stopped calling DingTalk for a while after repeated outages (circuit open). */
  | 'circuit_open';

export type GatewayError =
  | { kind: 'invalid_argument'; field: string; message: string }
  | { kind: 'not_bound'; userId: string; message: string }
  | { kind: 'disabled'; message: string }
  /** A state the request cannot be carried out in (runtime changes off, no encryption key, …). */
  | { kind: 'precondition'; message: string }
  /** The caller read a version that is no longer current. */
  | { kind: 'conflict'; message: string }
  /** The credential is valid but may not do this. */
  | { kind: 'permission_denied'; message: string }
  | { kind: 'not_found'; message: string }
  | { kind: 'rate_limited'; retryAfterMs: number; message: string }
  | { kind: 'store_unavailable'; message: string; cause?: unknown }
  | {
      kind: 'upstream';
      upstream: UpstreamKind;
      /** DingTalk's errcode (or the sub_code of errcode 88); 0 when none. */
      errcode: number;
      /** DingTalk endpoint name, e.g. "asyncsend_v2". */
      endpoint: string;
      retryable: boolean;
      message: string;
      /** When known: how long the caller should wait before trying again. */
      retryAfterMs?: number;
      cause?: unknown;
    }
  | { kind: 'cancelled'; message: string };

/** An Error that carries a GatewayError. */
export class GatewayFailure extends Error {
  readonly detail: GatewayError;
  constructor(detail: GatewayError) {
    super(
      detail.message,
      'cause' in detail && detail.cause !== undefined ? { cause: detail.cause } : undefined,
    );
    this.name = 'GatewayFailure';
    this.detail = detail;
  }
}

export const isGatewayFailure = (e: unknown): e is GatewayFailure => e instanceof GatewayFailure;

export const invalidArgument = (field: string, problem: string): GatewayFailure =>
  new GatewayFailure({ kind: 'invalid_argument', field, message: `${field}: ${problem}` });

export const notBound = (userId: string): GatewayFailure =>
  new GatewayFailure({
    kind: 'not_bound',
    userId,
    message: `user ${userId} is not bound to a DingTalk account, so the code could not be sent`,
  });

export const disabled = (message: string): GatewayFailure =>
  new GatewayFailure({ kind: 'disabled', message });

export const precondition = (message: string): GatewayFailure =>
  new GatewayFailure({ kind: 'precondition', message });

export const conflict = (message: string): GatewayFailure =>
  new GatewayFailure({ kind: 'conflict', message });

export const permissionDenied = (message: string): GatewayFailure =>
  new GatewayFailure({ kind: 'permission_denied', message });

export const notFound = (message: string): GatewayFailure =>
  new GatewayFailure({ kind: 'not_found', message });

export const rateLimited = (retryAfterMs: number, what: string): GatewayFailure =>
  new GatewayFailure({
    kind: 'rate_limited',
    retryAfterMs,
    message: `${what}; retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`,
  });

export const storeUnavailable = (operation: string, cause?: unknown): GatewayFailure =>
  new GatewayFailure({ kind: 'store_unavailable', message: `store unavailable during ${operation}`, cause });

export const upstream = (init: {
  upstream: UpstreamKind;
  errcode: number;
  endpoint: string;
  retryable: boolean;
  message: string;
  retryAfterMs?: number;
  cause?: unknown;
}): GatewayFailure => new GatewayFailure({ kind: 'upstream', ...init });

export const cancelled = (message = 'the call was cancelled'): GatewayFailure =>
  new GatewayFailure({ kind: 'cancelled', message });
