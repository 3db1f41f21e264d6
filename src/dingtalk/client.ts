import { isGatewayFailure, upstream, type GatewayFailure } from '../domain/errors';
import type { DingTalkPort, DingTalkUser, Markdown, SendResult, UnionIdMatch } from '../verification/ports';
import { oapiFailure, apiFailure, outcomeOf, redactErrmsg } from './envelope';
import { createHttpClient, parseJsonBody, toNumber, toText, type Json } from './http';
import {
  DEFAULT_RETRY,
  sleep as realSleep,
  withRetry,
  type RetryOptions,
  type RetryPolicy,
  type Sleep,
} from './retry';
import { readSendResult } from './send-result';
import { createCircuit, type CircuitState } from './circuit';
import { createTokenCache } from './token';
import { createLoginCalls } from './client-login';

/** DingTalk's limit on a work notification's `msg`, as serialized JSON. */
export const MAX_MESSAGE_BYTES = 2048;

export interface DingTalkClientOptions {
  /** New-API base, e.g. https://api.dingtalk.com (the token endpoint lives here). */
  apiUrl: string;
  /** Legacy base, e.g. https://oapi.dingtalk.com (messages and look-ups). */
  oapiUrl: string;
  appKey: string;
  appSecret: string;
  agentId: number;
  /** Whole-exchange limit for each HTTP call (connect, headers and body); default 5000. */
  timeoutMs?: number;
  /** Connections per DingTalk host; default 32. Calls beyond it wait for a free one. */
  maxConnections?: number;
  now?: () => number;
  logger?: { debug(o: object, m: string): void; warn(o: object, m: string): void };
  /** Defaults: 3 attempts, 200 ms base delay, 2000 ms max delay (90018 waits at least 1 s regardless). */
  retry?: Partial<RetryPolicy>;
  sleep?: Sleep;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
  /** Waits for a call slot before each oapi request (the shared rate gate); none by default. */
  acquire?: (endpoint: string, signal?: AbortSignal) => Promise<void>;
  /** Circuit breaker: outages in a row that open it (0 = never; default 5) and how long it stays open (default 10 000 ms). */
  circuit?: { failureThreshold?: number; openMs?: number; onChange?: (state: CircuitState) => void };
}

export interface DingTalkStats {
  /** Token fetches started. */
  tokenFetches: number;
  /** Calls by endpoint, then outcome: "0" for ok, the errcode, or the failure class ("transport", …). */
  calls: Record<string, Record<string, number>>;
}

/** The app the gateway speaks for. */
export interface DingTalkCredentials {
  agentId: number;
  appKey: string;
  appSecret: string;
}

export interface DingTalkClient extends DingTalkPort {
  /**
   * Speaks for another app from the next call on: the cached token is dropped, and calls
   * in flight finish with the credentials they started with.
   */
  setCredentials(credentials: DingTalkCredentials): void;
  /**
   * Fetches a token with these credentials, caching nothing: resolves when DingTalk accepts
   * them, rejects with its classified refusal (credentials, IP whitelist, …) otherwise.
   */
  tryCredentials(appKey: string, appSecret: string, signal?: AbortSignal): Promise<void>;
  stats(): DingTalkStats;
  /** The circuit breaker's state: 'open' while DingTalk is considered down. */
  circuitState(): CircuitState;
  /** Destroys the keep-alive sockets. */
  close(): void;
}

const PATHS = {
  asyncsend_v2: '/topapi/message/corpconversation/asyncsend_v2',
  getsendresult: '/topapi/message/corpconversation/getsendresult',
  recall: '/topapi/message/corpconversation/recall',
  getbymobile: '/topapi/v2/user/getbymobile',
  getbyunionid: '/topapi/user/getbyunionid',
  user_get: '/topapi/v2/user/get',
  getuserinfo: '/topapi/v2/user/getuserinfo',
} as const;
type Endpoint = keyof typeof PATHS;

/** "No such user" answers, which look-ups turn into `undefined`. */
const NOT_FOUND = new Set([60121, 33012]);

/**
 * The DingTalk adapter. Tokens come from the new API and are cached; every other call
 * goes to oapi. A rejected token is dropped and refetched once per call; busy, rate
 * limits and network failures are retried with backoff within the caller's signal;
 * configuration and recipient errors fail at once.
 */
export function createDingTalkClient(options: DingTalkClientOptions): DingTalkClient {
  const apiUrl = options.apiUrl.replace(/\/+$/, '');
  const oapiUrl = options.oapiUrl.replace(/\/+$/, '');
  let { appKey, appSecret, agentId } = options;
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const http = createHttpClient({ timeoutMs: options.timeoutMs ?? 5000, maxSockets: options.maxConnections });
  const calls: Record<string, Record<string, number>> = {};
  const circuit = createCircuit({
    failureThreshold: options.circuit?.failureThreshold ?? 5,
    openMs: options.circuit?.openMs ?? 10_000,
    now,
    onChange: (state) => {
      logger?.warn({ circuit: state }, `DingTalk circuit ${state.replace('_', '-')}`);
      options.circuit?.onChange?.(state);
    },
  });

  const observe = async <T>(endpoint: string, exchange: () => Promise<T>): Promise<T> => {
    let outcome = '0';
    try {
      return await exchange();
    } catch (e) {
      outcome = outcomeOf(e);
      throw e;
    } finally {
      const byOutcome = (calls[endpoint] ??= {});
      byOutcome[outcome] = (byOutcome[outcome] ?? 0) + 1;
    }
  };

  const fetchToken = (key: string, secret: string, signal?: AbortSignal) =>
    observe('token', async () => {
      const reply = await http.request({
        endpoint: 'token',
        method: 'POST',
        url: `${apiUrl}/v1.0/oauth2/accessToken`,
        data: { appKey: key, appSecret: secret },
        signal,
      });
      const json = parseJsonBody('token', reply);
      const token = toText(json.accessToken);
      const expiresInSeconds = toNumber(json.expireIn);
      if (reply.status >= 200 && reply.status < 300 && token && expiresInSeconds && expiresInSeconds > 0) {
        return { token, expiresInSeconds };
      }
      throw apiFailure('token', reply.status, json);
    });
  const tokens = createTokenCache({ now, fetch: () => fetchToken(appKey, appSecret) });

  const once = async (endpoint: Endpoint, body: Json, token: string, signal?: AbortSignal) => {
    await options.acquire?.(endpoint, signal);
    return observe(endpoint, async () => {
      const reply = await http.request({
        endpoint,
        method: 'POST',
        url: oapiUrl + PATHS[endpoint],
        params: { access_token: token },
        data: body,
        signal,
      });
      const json = parseJsonBody(endpoint, reply);
      const errcode = toNumber(json.errcode);
      if (errcode === 0) return json;
      if (errcode === undefined) throw apiFailure(endpoint, reply.status, json);
      const failure = oapiFailure(endpoint, errcode, toNumber(json.sub_code));
      if (failure.detail.kind === 'upstream' && failure.detail.upstream === 'unknown') {
        logger?.warn(
          { endpoint, errcode, errmsg: redactErrmsg(json.errmsg) },
          'DingTalk answered an undocumented errcode',
        );
      }
      throw failure;
    });
  };

  const isTokenFailure = (e: unknown): e is GatewayFailure =>
    isGatewayFailure(e) &&
    e.detail.kind === 'upstream' &&
    e.detail.upstream === 'token' &&
    e.detail.endpoint !== 'token';

  const retryOptions = (
    endpoint: string,
    signal?: AbortSignal,
    maxAttempts = policy.maxAttempts,
  ): RetryOptions => ({
    policy: { ...policy, maxAttempts },
    sleep: options.sleep ?? realSleep,
    random: options.random ?? Math.random,
    signal,
    onRetry: (e, attempt, delayMs) =>
      logger?.debug({ endpoint, attempt, delayMs, outcome: outcomeOf(e) }, 'retrying DingTalk call'),
  });

  /** `maxAttempts` 1: a one-time code's call, which only the token refetch may repeat. */
  const oapi = (endpoint: Endpoint, body: Json, signal?: AbortSignal, maxAttempts?: number): Promise<Json> =>
    circuit.run(endpoint, () => retried(endpoint, body, signal, maxAttempts));

  const retried = (
    endpoint: Endpoint,
    body: Json,
    signal?: AbortSignal,
    maxAttempts?: number,
  ): Promise<Json> => {
    let refetched = false;
    return withRetry(
      async () => {
        const token = await tokens.get(signal);
        try {
          return await once(endpoint, body, token, signal);
        } catch (e) {
          if (refetched || !isTokenFailure(e)) throw e;
          refetched = true;
          tokens.invalidate(token);
          logger?.debug(
            { endpoint, errcode: e.detail.kind === 'upstream' ? e.detail.errcode : 0 },
            'DingTalk rejected the access token; refetching once',
          );
          return await once(endpoint, body, await tokens.get(signal), signal);
        }
      },
      retryOptions(endpoint, signal, maxAttempts),
    );
  };

  const lookup = async (endpoint: Endpoint, body: Json, signal?: AbortSignal): Promise<Json | undefined> => {
    try {
      const json = await oapi(endpoint, body, signal);
      const result = json.result;
      if (result && typeof result === 'object' && !Array.isArray(result)) return result as Json;
      throw local(endpoint, 'bad_response', 'the answer has no result');
    } catch (e) {
      if (isGatewayFailure(e) && e.detail.kind === 'upstream' && NOT_FOUND.has(e.detail.errcode))
        return undefined;
      throw e;
    }
  };

  const userIdOf = (endpoint: Endpoint, result: Json | undefined): string | undefined => {
    if (!result) return undefined;
    const userId = toText(result.userid);
    if (!userId) throw local(endpoint, 'bad_response', 'the answer has no userid');
    return userId;
  };

  return {
    setCredentials(next) {
      ({ agentId, appKey, appSecret } = next);
      tokens.clear();
    },

    async tryCredentials(key, secret, signal) {
      await fetchToken(key, secret, signal);
    },

    async sendMarkdown(userId: string, message: Markdown, signal?: AbortSignal) {
      checkUserId('asyncsend_v2', userId);
      const msg = { msgtype: 'markdown', markdown: { title: message.title, text: message.text } };
      const bytes = Buffer.byteLength(JSON.stringify(msg));
      if (bytes > MAX_MESSAGE_BYTES) {
        throw local(
          'asyncsend_v2',
          'invalid_parameter',
          `the message is ${bytes} bytes; DingTalk takes at most ${MAX_MESSAGE_BYTES}`,
        );
      }
      // A retry after a lost answer may send twice; DingTalk drops the second copy as same-day duplicate content.
      const json = await oapi('asyncsend_v2', { agent_id: agentId, userid_list: userId, msg }, signal);
      const taskId = toText(json.task_id);
      if (!taskId) throw local('asyncsend_v2', 'bad_response', 'the answer has no task_id');
      return { taskId };
    },

    async getSendResult(taskId: string, signal?: AbortSignal): Promise<SendResult> {
      if (!/^\d{1,20}$/.test(taskId))
        throw local('getsendresult', 'invalid_parameter', 'the task id is not a DingTalk task id');
      const numeric = Number(taskId);
      const json = await oapi(
        'getsendresult',
        { agent_id: agentId, task_id: Number.isSafeInteger(numeric) ? numeric : taskId },
        signal,
      );
      return readSendResult(json.send_result);
    },

    async recall(taskId: string, signal?: AbortSignal): Promise<void> {
      if (!/^\d{1,20}$/.test(taskId))
        throw local('recall', 'invalid_parameter', 'the task id is not a DingTalk task id');
      const numeric = Number(taskId);
      // The field is msg_task_id here, unlike getsendresult's task_id.
      await oapi(
        'recall',
        { agent_id: agentId, msg_task_id: Number.isSafeInteger(numeric) ? numeric : taskId },
        signal,
      );
    },

    async findUserIdByMobile(mobile: string, signal?: AbortSignal) {
      return userIdOf('getbymobile', await lookup('getbymobile', { mobile }, signal));
    },

    async findUserIdByUnionId(unionId: string, signal?: AbortSignal) {
      return userIdOf('getbyunionid', await lookup('getbyunionid', { unionid: unionId }, signal));
    },

    async getByUnionId(unionId: string, signal?: AbortSignal): Promise<UnionIdMatch | undefined> {
      const result = await lookup('getbyunionid', { unionid: unionId }, signal);
      const userId = userIdOf('getbyunionid', result);
      if (!result || !userId) return undefined;
      return { userId, contactType: toNumber(result.contact_type) ?? 0 };
    },

    // Binding through DingTalk login, with the app's current credentials (client-login.ts).
    ...createLoginCalls({
      apiUrl,
      http,
      credentials: () => ({ appKey, appSecret }),
      observe,
      circuit,
      acquire: options.acquire,
      retryOptions,
      oapiOnce: (endpoint, body, signal) => oapi(endpoint, body, signal, 1),
    }),

    async getUser(userId: string, signal?: AbortSignal): Promise<DingTalkUser | undefined> {
      checkUserId('user_get', userId);
      const result = await lookup('user_get', { userid: userId }, signal);
      const found = userIdOf('user_get', result);
      if (!result || !found) return undefined;
      return {
        userId: found,
        name: toText(result.name) ?? '',
        active: result.active !== false && result.active !== 'false',
      };
    },

    circuitState: () => circuit.state,

    stats: () => ({
      tokenFetches: tokens.fetches,
      calls: Object.fromEntries(Object.entries(calls).map(([k, v]) => [k, { ...v }])),
    }),

    close: () => http.close(),
  };
}

function local(endpoint: string, kind: 'invalid_parameter' | 'bad_response', what: string): GatewayFailure {
  return upstream({
    upstream: kind,
    errcode: 0,
    endpoint,
    retryable: false,
    message: `DingTalk ${endpoint}: ${what}`,
  });
}

/** A comma would turn one recipient into several: userid_list is comma-separated. */
function checkUserId(endpoint: string, userId: string): void {
  if (userId === '' || /[,\s]/.test(userId) || userId.length > 64) {
    throw local(endpoint, 'invalid_parameter', 'the DingTalk userid is empty or malformed');
  }
}
