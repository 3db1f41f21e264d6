import { upstream } from '../domain/errors';
import type { DingTalkPort, LoginToken } from '../verification/ports';
import type { Circuit } from './circuit';
import { apiFailure } from './envelope';
import { parseJsonBody, toText, type HttpClient, type HttpReply, type Json } from './http';
import type { RetryOptions } from './retry';
import { withRetry } from './retry';

/** The new-API login endpoints, by the short names used in stats and errors. */
export const LOGIN_API_PATHS = {
  user_access_token: '/v1.0/oauth2/userAccessToken',
  login_user: '/v1.0/contact/users/me',
} as const;
type LoginEndpoint = keyof typeof LOGIN_API_PATHS;

export interface LoginCallsDeps {
  apiUrl: string;
  http: HttpClient;
  /** The app's current AppKey and AppSecret (they may change at run time). */
  credentials: () => { appKey: string; appSecret: string };
  observe: <T>(endpoint: string, exchange: () => Promise<T>) => Promise<T>;
  circuit: Circuit;
  /** The shared rate gate, as for oapi calls. */
  acquire?: (endpoint: string, signal?: AbortSignal) => Promise<void>;
  retryOptions: (endpoint: string, signal?: AbortSignal) => RetryOptions;
  /** An oapi call with the app token, refetched once on a token error but never retried otherwise. */
  oapiOnce: (endpoint: 'getuserinfo', body: Json, signal?: AbortSignal) => Promise<Json>;
}

/**
 * DingTalk login as the client speaks it: the authCode exchange and users/me on the new
 * API, getuserinfo on oapi. Like every other call they go through the circuit breaker, the
 * rate gate and the bounded HTTP client. The one-time codes are never retried (a retry after
 * a lost answer would find the code used); users/me, a plain read, is retried like a look-up.
 * The user access token travels in a header only and is never logged.
 */
export function createLoginCalls(
  deps: LoginCallsDeps,
): Pick<DingTalkPort, 'exchangeLoginCode' | 'getLoginUser' | 'getUserInfoByAuthCode'> {
  const { http, circuit } = deps;

  const call = async (
    endpoint: LoginEndpoint,
    request: { method: 'GET' | 'POST'; data?: Json; headers?: Record<string, string> },
    signal?: AbortSignal,
  ): Promise<{ reply: HttpReply; json: Json }> => {
    await deps.acquire?.(endpoint, signal);
    return deps.observe(endpoint, async () => {
      const url = deps.apiUrl + LOGIN_API_PATHS[endpoint];
      const reply = await http.request({ endpoint, url, signal, ...request });
      return { reply, json: parseJsonBody(endpoint, reply) };
    });
  };

  const ok = (reply: HttpReply) => reply.status >= 200 && reply.status < 300;

  return {
    exchangeLoginCode: (authCode, signal) =>
      circuit.run('user_access_token', async (): Promise<LoginToken> => {
        const { appKey, appSecret } = deps.credentials();
        const data = {
          clientId: appKey,
          clientSecret: appSecret,
          code: authCode,
          grantType: 'authorization_code',
        };
        const { reply, json } = await call('user_access_token', { method: 'POST', data }, signal);
        const accessToken = toText(json.accessToken);
        if (!ok(reply)) throw apiFailure('user_access_token', reply.status, json);
        if (!accessToken) throw bad('user_access_token', 'the answer has no accessToken');
        return { accessToken, corpId: toText(json.corpId) || undefined };
      }),

    getLoginUser: (userAccessToken, signal) =>
      circuit.run('login_user', () =>
        withRetry(
          async () => {
            const headers = { 'x-acs-dingtalk-access-token': userAccessToken };
            const { reply, json } = await call('login_user', { method: 'GET', headers }, signal);
            if (!ok(reply)) throw apiFailure('login_user', reply.status, json);
            // users/me has no userId (one public client reads one and fails): the unionId is the key.
            const unionId = toText(json.unionId);
            if (!unionId) throw bad('login_user', 'the answer has no unionId');
            return { unionId };
          },
          deps.retryOptions('login_user', signal),
        ),
      ),

    async getUserInfoByAuthCode(authCode, signal) {
      const json = await deps.oapiOnce('getuserinfo', { code: authCode }, signal);
      const result = json.result as Json | undefined;
      const userId = toText(result?.userid);
      const unionId = toText(result?.unionid);
      if (!userId || !unionId) throw bad('getuserinfo', 'the answer has no userid or unionid');
      return { userId, unionId };
    },
  };
}

const bad = (endpoint: string, what: string) =>
  upstream({
    upstream: 'bad_response',
    errcode: 0,
    endpoint,
    retryable: false,
    message: `DingTalk ${endpoint}: ${what}`,
  });
