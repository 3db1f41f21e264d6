import http from 'node:http';
import https from 'node:https';
import { types } from 'node:util';
import axios, { AxiosError } from 'axios';
import { cancelled, GatewayFailure, upstream } from '../domain/errors';

/** DingTalk's answers are small; anything larger is not an answer we expect. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface HttpRequest {
  /** Short endpoint name for errors and stats, e.g. "asyncsend_v2". */
  endpoint: string;
  method: 'GET' | 'POST';
  url: string;
  params?: Record<string, string>;
  /** Sent as JSON. */
  data?: unknown;
  /** Extra request headers (the new API's `x-acs-dingtalk-access-token`). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface HttpReply {
  status: number;
  contentType: string;
  text: string;
}

export interface HttpClient {
  /**
   * One request, no retries. Resolves with any HTTP status; rejects with a GatewayFailure:
   * `cancelled` when the caller's signal aborted, upstream `transport` (retryable) when no
   * complete answer arrived within `timeoutMs` (connect, headers and body together).
   */
  request(req: HttpRequest): Promise<HttpReply>;
  /** Destroys the keep-alive sockets. */
  close(): void;
}

/** Default for `maxSockets`: far above what DingTalk's 20 calls/s per API needs. */
export const DEFAULT_MAX_SOCKETS = 32;

export function createHttpClient(options: {
  timeoutMs: number;
  maxBytes?: number;
  /**
   * Connections per DingTalk host, busy and idle together. Calls beyond it wait for a free
   * one (within their deadline) instead of opening more: without a bound, every burst
   * opened sockets that were closed again once idle, thousands a minute under load.
   */
  maxSockets?: number;
}): HttpClient {
  const { timeoutMs } = options;
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
  const pool = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' } as const;
  const httpAgent = new http.Agent(pool);
  const httpsAgent = new https.Agent(pool);
  const instance = axios.create({
    adapter: 'http',
    httpAgent,
    httpsAgent,
    responseType: 'text',
    // Status is interpreted by the caller: oapi reports business errors with HTTP 200.
    validateStatus: () => true,
    maxContentLength: maxBytes,
    maxBodyLength: maxBytes,
    // A redirect would carry the access token in the query to another host.
    maxRedirects: 0,
    transitional: { silentJSONParsing: true, forcedJSONParsing: false, clarifyTimeoutError: true },
  });

  return {
    async request(req) {
      if (req.signal?.aborted) throw cancelled();
      // axios's own `timeout` restarts per phase; this signal bounds the whole exchange.
      // One controller and one timer, both gone when the call ends: AbortSignal.timeout
      // kept its timer (and AbortSignal.any its weak references) alive for the whole
      // timeout after every call, 10,000 to 15,000 of each under load.
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new Error(`no complete answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = () => controller.abort(req.signal?.reason);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await instance.request<string>({
          method: req.method,
          url: req.url,
          params: req.params,
          data: req.data,
          headers: req.headers,
          signal: controller.signal,
        });
        const contentType = String(res.headers['content-type'] ?? '');
        return { status: res.status, contentType, text: typeof res.data === 'string' ? res.data : '' };
      } catch (e) {
        if (req.signal?.aborted) throw cancelled();
        throw transportFailure(req.endpoint, e, timedOut, timeoutMs, maxBytes);
      } finally {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      }
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function transportFailure(
  endpoint: string,
  e: unknown,
  timedOut: boolean,
  timeoutMs: number,
  maxBytes: number,
): GatewayFailure {
  const base = { errcode: 0, endpoint };
  if (timedOut) {
    return upstream({
      ...base,
      upstream: 'transport',
      retryable: true,
      message: `DingTalk ${endpoint}: no complete answer within ${timeoutMs} ms`,
    });
  }
  if (e instanceof AxiosError && e.message.startsWith('maxContentLength')) {
    return upstream({
      ...base,
      upstream: 'bad_response',
      retryable: false,
      message: `DingTalk ${endpoint}: the answer is larger than ${maxBytes} bytes`,
    });
  }
  if (e instanceof AxiosError && e.message.includes('maxBodyLength')) {
    return upstream({
      ...base,
      upstream: 'invalid_parameter',
      retryable: false,
      message: `DingTalk ${endpoint}: the request is larger than ${maxBytes} bytes`,
    });
  }
  const code = (e as { code?: unknown })?.code;
  return upstream({
    ...base,
    upstream: 'transport',
    retryable: true,
    message: `DingTalk ${endpoint}: network error ${typeof code === 'string' ? code : 'without a code'}`,
    cause: e instanceof AxiosError ? rootCause(e) : e,
  });
}

/**
 * The network error underneath axios's wrapper. The wrapper itself is not kept: its
 * `config` holds the URL with the access token and the token request's AppSecret.
 */
function rootCause(e: AxiosError): Error {
  // isNativeError, not instanceof: Node's socket errors may come from another realm.
  if (types.isNativeError(e.cause)) return e.cause;
  const plain = new Error(e.message);
  if (e.code) Object.assign(plain, { code: e.code });
  return plain;
}

export type Json = Record<string, unknown>;

/**
 * Reads a body that should be a JSON object, whatever the HTTP status. DingTalk's ban
 * answers (an HTML page, `{"status":1111}`) become `banned`; anything else that is not a
 * JSON object becomes `bad_response`, retryable only for HTTP 5xx.
 */
export function parseJsonBody(endpoint: string, reply: HttpReply): Json {
  const text = reply.text.trim();
  const fail = (upstreamKind: 'banned' | 'bad_response', what: string) =>
    upstream({
      upstream: upstreamKind,
      errcode: 0,
      endpoint,
      retryable: upstreamKind === 'bad_response' && reply.status >= 500,
      message: `DingTalk ${endpoint}: ${what} (HTTP ${reply.status})`,
    });
  const looksHtml = /html/i.test(reply.contentType) || text.startsWith('<');
  if (looksHtml && reply.status < 500) {
    throw fail('banned', 'answered with an HTML page, as DingTalk does for a throttled or banned IP');
  }
  if (text === '') throw fail('bad_response', 'empty answer');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('bad_response', 'the answer is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw fail('bad_response', 'the answer is not a JSON object');
  }
  const json = parsed as Json;
  if (toNumber(json.status) === 1111) {
    throw fail('banned', 'DingTalk banned the caller IP for calling too often (status 1111)');
  }
  return json;
}

/** Numbers as DingTalk sends them: sometimes as strings (`"errcode":"0"`). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** Strings as DingTalk sends them: ids sometimes come as numbers. */
export function toText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}
