import { isGatewayFailure, type GatewayError, type UpstreamKind } from '../domain/errors';

/**
 * HTTP statuses for DingTalk's failure classes, as grpc/status.ts maps them to gRPC codes:
 * outages are 503, limits 429, what the operator must fix (credentials, permissions,
 * whitelist, range, recipient) is 409 like every other failed precondition, and a
 * parameter DingTalk rejects is our bug (500).
 */
const UPSTREAM_STATUS: Record<UpstreamKind, number> = {
  busy: 503,
  transport: 503,
  bad_response: 503,
  banned: 503,
  token: 503,
  unknown: 503,
  circuit_open: 503,
  rate_limit: 429,
  quota: 429,
  credentials: 409,
  permission: 409,
  ip_whitelist: 409,
  out_of_range: 409,
  recipient: 409,
  login_code: 409,
  invalid_parameter: 500,
};

/**
 * Why an HTTP request was refused before any service saw it (the hooks): no or a wrong
 * credential or signature, a stale timestamp, a method, body size or media type the route
 * does not take, a route that is off. Each is final: the same request is refused again.
 */
export type RequestProblem = 'unauthenticated' | 'method' | 'too_large' | 'media_type' | 'no_route';

/** Each problem's status, and the nearest kind of ours for pages keyed by kind. */
const REQUEST_STATUS: Record<RequestProblem, [number, GatewayError['kind']]> = {
  unauthenticated: [401, 'permission_denied'],
  method: [405, 'invalid_argument'],
  too_large: [413, 'invalid_argument'],
  media_type: [415, 'invalid_argument'],
  no_route: [404, 'not_found'],
};

/** A refused request; `message` is safe to show (it never holds a credential or a signature). */
export class RequestRefusal extends Error {
  constructor(
    readonly problem: RequestProblem,
    message: string,
    /** Headers to send with the answer (www-authenticate, allow). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'RequestRefusal';
  }
}

/** An error as an HTTP answer: the status, a message safe to show, and what a page may point at. */
export interface HttpError {
  status: number;
  kind: GatewayError['kind'] | 'internal';
  /** Set when the request itself was refused (RequestRefusal), before any service saw it. */
  request?: RequestProblem;
  /** Safe to show: our typed messages never hold a code, a secret, a token or a mobile number. */
  message: string;
  /** Headers to send with the answer (retry-after). */
  headers: Record<string, string>;
  /** invalid_argument: the setting or field at fault. */
  field?: string;
  /** upstream: DingTalk's failure class and errcode (0 when DingTalk gave none). */
  upstream?: UpstreamKind;
  errcode?: number;
  /** True when the error was not one of ours: log it with its stack, show only "internal error". */
  unexpected: boolean;
}

/**
 * The one place errors become HTTP statuses, for the console and webhooks. Failed
 * preconditions (a disabled scenario, an unbound user, runtime changes off) are 409,
 * not 412: 412 answers a conditional request header (If-Match), which these are not;
 * a stale settings version is a 409 too, told apart by `kind`.
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof RequestRefusal)
    return {
      status: REQUEST_STATUS[error.problem][0],
      kind: REQUEST_STATUS[error.problem][1],
      request: error.problem,
      message: error.message,
      headers: { ...error.headers },
      unexpected: false,
    };
  if (!isGatewayFailure(error))
    return { status: 500, kind: 'internal', message: 'internal error', headers: {}, unexpected: true };
  const d = error.detail;
  const base = { kind: d.kind, message: d.message, headers: {} as Record<string, string>, unexpected: false };
  switch (d.kind) {
    case 'invalid_argument':
      return { ...base, status: 400, field: d.field };
    case 'permission_denied':
      return { ...base, status: 403 };
    case 'not_found':
      return { ...base, status: 404 };
    case 'conflict':
    case 'not_bound':
    case 'disabled':
    case 'precondition':
      return { ...base, status: 409 };
    case 'rate_limited':
      return { ...base, status: 429, headers: { 'retry-after': retryAfterSeconds(d.retryAfterMs) } };
    case 'store_unavailable':
      return { ...base, status: 503 };
    case 'upstream':
      return {
        ...base,
        status: UPSTREAM_STATUS[d.upstream],
        upstream: d.upstream,
        errcode: d.errcode,
        headers: d.retryAfterMs === undefined ? {} : { 'retry-after': retryAfterSeconds(d.retryAfterMs) },
      };
    case 'cancelled':
      // The caller is gone, or gave up: nobody reads the answer, but a proxy logs it.
      return { ...base, status: 503 };
  }
}

const retryAfterSeconds = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));
