import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { createFaultQueue, type Fault, type SimEndpoint } from './simulator-faults';
import { renderInboxPage } from './simulator-inbox-page';
import { createMessages, type InboxMessage } from './simulator-messages';
import { createDirectory, createTokenBook, fail, ok, requestId, str, type SimJson } from './simulator-state';
import { createLoginDesk, LOGIN_API_ENDPOINTS } from './simulator-login';
import { DEMO_USERS, OTHER_LOGIN_ACCOUNTS, SIMULATOR_DEFAULTS, type SimUser } from './simulator-users';

export { DEMO_USERS, OTHER_LOGIN_ACCOUNTS, SIMULATOR_DEFAULTS, type SimUser } from './simulator-users';
export type { InboxMessage } from './simulator-messages';
export type { Fault, SimEndpoint } from './simulator-faults';

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  appKey?: string;
  appSecret?: string;
  agentId?: number;
  /** Default DEMO_USERS. */
  users?: readonly SimUser[];
  /** Default 7200. */
  tokenTtlSeconds?: number;
  /** Work notifications one user may receive per day; default 500. */
  dailyCapPerUser?: number;
  /** Clock for token expiry, days and inbox times; default Date.now. */
  now?: () => number;
  /** Called for every delivered message. */
  onMessage?: (m: InboxMessage) => void;
  /**
   * Calls per endpoint allowed in any one-second span, as DingTalk allows an app 20 per
   * API; beyond it the answer is errcode 90018. Default 0: no limit.
   */
  maxCallsPerSecond?: number;
}

export interface Simulator {
  /** Base URL for both API families, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly appKey: string;
  readonly appSecret: string;
  readonly agentId: number;
  /** Delivered messages, newest last (at most the latest 1000). */
  readonly inbox: readonly InboxMessage[];
  /** The task id of every recall request that reached the simulated DingTalk (not faulted ones), in order; the latest 1000. */
  readonly recalls: readonly string[];
  /** Calls answered 90018 because of maxCallsPerSecond. */
  readonly throttled: number;
  /** Requests received per endpoint, faulted ones included. */
  readonly calls: Readonly<Partial<Record<SimEndpoint, number>>>;
  /** Plays `fault` on the next `times` requests to `endpoint` ('*': any endpoint). */
  inject(endpoint: SimEndpoint | '*', fault: Fault, times?: number): void;
  clearFaults(): void;
  /** Expires every issued token: the next use answers 42001, the next fetch issues a new token. */
  expireTokens(): void;
  /**
   * Replaces the app's secret, as an administrator resetting it on the open platform: token
   * fetches with the old one are refused from now on; tokens already issued stay valid.
   */
  rotateAppSecret(secret: string): void;
  /** Every token issued so far (for leak tests). */
  issuedTokens(): string[];
  /** The simulated organisation's CorpId, which its members' DingTalk logins carry. */
  readonly corpId: string;
  /**
   * An in-app auth code for an active member, as dd.requestAuthCode yields one in the
   * organisation's micro-app: single-use, valid 5 minutes, resolved by getuserinfo.
   */
  mintInAppCode(userid: string): string;
  /** Every user access token a DingTalk login was given (for leak tests). */
  issuedUserTokens(): string[];
  /** Forgets messages, tasks, daily counters, call counts and faults; tokens stay valid. */
  reset(): void;
  close(): Promise<void>;
}

const ROUTES: Readonly<Record<string, { endpoint: SimEndpoint; method: 'GET' | 'POST' }>> = {
  '/v1.0/oauth2/accessToken': { endpoint: 'token', method: 'POST' },
  '/gettoken': { endpoint: 'gettoken', method: 'GET' },
  '/topapi/message/corpconversation/asyncsend_v2': { endpoint: 'asyncsend_v2', method: 'POST' },
  '/topapi/message/corpconversation/getsendresult': { endpoint: 'getsendresult', method: 'POST' },
  '/topapi/message/corpconversation/getsendprogress': { endpoint: 'getsendprogress', method: 'POST' },
  '/topapi/message/corpconversation/recall': { endpoint: 'recall', method: 'POST' },
  '/topapi/v2/user/getbymobile': { endpoint: 'getbymobile', method: 'POST' },
  '/topapi/user/getbyunionid': { endpoint: 'getbyunionid', method: 'POST' },
  '/topapi/v2/user/get': { endpoint: 'user_get', method: 'POST' },
  '/v1.0/oauth2/userAccessToken': { endpoint: 'user_access_token', method: 'POST' },
  '/v1.0/contact/users/me': { endpoint: 'login_user', method: 'GET' },
  '/topapi/v2/user/getuserinfo': { endpoint: 'getuserinfo', method: 'POST' },
};

const MAX_REQUEST_BYTES = 1024 * 1024;

interface Answer {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

const json = (status: number, value: SimJson): Answer => ({
  status,
  body: JSON.stringify(value),
  contentType: 'application/json;charset=utf-8',
});

/**
 * A DingTalk for tests and the sandbox: a real HTTP server that speaks the new-API token
 * endpoint and the oapi endpoints the gateway uses on one base URL, with DingTalk's
 * validation, token lifetimes and silent delivery limits, plus injectable faults.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const appKey = options.appKey ?? SIMULATOR_DEFAULTS.appKey;
  let appSecret = options.appSecret ?? SIMULATOR_DEFAULTS.appSecret;
  const agentId = options.agentId ?? SIMULATOR_DEFAULTS.agentId;
  const now = options.now ?? Date.now;
  const tokens = createTokenBook(options.tokenTtlSeconds ?? SIMULATOR_DEFAULTS.tokenTtlSeconds, now);
  const directory = createDirectory(options.users ?? DEMO_USERS, OTHER_LOGIN_ACCOUNTS);
  const messages = createMessages({
    agentId,
    dailyCapPerUser: options.dailyCapPerUser ?? SIMULATOR_DEFAULTS.dailyCapPerUser,
    now,
    directory,
    onMessage: options.onMessage,
  });
  const faults = createFaultQueue();
  const login = createLoginDesk({
    appKey,
    appSecret: () => appSecret,
    appName: SIMULATOR_DEFAULTS.appName,
    corpId: SIMULATOR_DEFAULTS.corpId,
    corpName: SIMULATOR_DEFAULTS.corpName,
    members: () => directory.all(),
    others: OTHER_LOGIN_ACCOUNTS,
    now,
  });
  const calls: Partial<Record<SimEndpoint, number>> = {};
  const lifetime = new AbortController();
  const pause = (ms: number) =>
    wait(ms, undefined, { signal: lifetime.signal }).then(
      () => !lifetime.signal.aborted,
      () => false,
    );

  const answer = (
    endpoint: SimEndpoint,
    url: URL,
    contentType: string,
    raw: string,
    headers: http.IncomingHttpHeaders,
  ): Answer => {
    if (endpoint === 'user_access_token' || endpoint === 'login_user') {
      const a = login.answer(endpoint, headers, contentType, raw);
      return json(a.status, a.json);
    }
    if (endpoint === 'token') {
      const body = /application\/json/i.test(contentType) ? parseObject(raw) : undefined;
      const key = str(body?.appKey);
      const secret = str(body?.appSecret);
      if (!key || !secret) {
        const missing = key ? 'appSecret' : 'appKey';
        return json(400, {
          code: `Missing${missing}`,
          message: `${missing} is mandatory for this action.`,
          requestid: requestId(),
        });
      }
      if (key !== appKey || secret !== appSecret) {
        return json(400, {
          code: 'invalidClientIdOrSecret',
          message: '无效的clientId或者clientSecret',
          requestid: requestId(),
        });
      }
      const t = tokens.issue();
      return json(200, { accessToken: t.token, expireIn: t.expiresIn });
    }
    if (endpoint === 'gettoken') {
      if (url.searchParams.get('appkey') !== appKey)
        return json(200, fail(40089, '不合法的appKey或appSecret'));
      if (url.searchParams.get('appsecret') !== appSecret)
        return json(200, fail(40096, '不合法的appKey或appSecret'));
      const t = tokens.issue();
      return json(200, ok({ access_token: t.token, expires_in: t.expiresIn }));
    }
    const tokenCode = tokens.check(url.searchParams.get('access_token') ?? undefined);
    if (tokenCode === 42001) return json(200, fail(42001, 'access_token超时'));
    if (tokenCode !== 0) return json(200, fail(tokenCode, '不合法的access_token'));
    const body = raw.trim() === '' ? {} : parseObject(raw);
    if (!body) return json(200, fail(40035, '不合法的参数: 请求体不是 JSON'));
    switch (endpoint) {
      case 'asyncsend_v2':
        return json(200, messages.send(body));
      case 'getsendresult':
        return json(200, messages.sendResult(body));
      case 'getsendprogress':
        return json(200, messages.sendProgress(body));
      case 'recall':
        return json(200, messages.recall(body));
      case 'getbymobile':
        return json(200, directory.getByMobile(body));
      case 'getbyunionid':
        return json(200, directory.getByUnionId(body));
      case 'user_get':
        return json(200, directory.getUser(body));
      case 'getuserinfo':
        return json(200, login.getUserInfo(body));
    }
  };

  // Recent call times per endpoint, for the sliding one-second limit.
  const recent = new Map<SimEndpoint, number[]>();
  let throttled = 0;
  const withinRate = (endpoint: SimEndpoint): boolean => {
    const limit = options.maxCallsPerSecond ?? 0;
    if (limit <= 0 || endpoint === 'token' || endpoint === 'gettoken') return true;
    const t = Date.now();
    const times = (recent.get(endpoint) ?? []).filter((x) => x > t - 1000);
    recent.set(endpoint, times);
    if (times.length >= limit) {
      throttled += 1;
      return false;
    }
    times.push(t);
    return true;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (req.method === 'GET' && url.pathname === '/') {
      return write(res, {
        status: 200,
        body: renderInboxPage(messages.inbox, {
          userid: url.searchParams.get('user') ?? undefined,
          users: directory.all(),
          appName: `DingTalk Gateway (sandbox app ${agentId})`,
        }),
        contentType: 'text/html;charset=utf-8',
      });
    }
    if (req.method === 'GET' && url.pathname === '/inbox.json')
      return write(res, json(200, { messages: messages.inbox }));
    if (url.pathname === '/oauth2/auth' || url.pathname === '/oauth2/auth/confirm') {
      const form = await readBody(req, res);
      if (form === undefined) return;
      return write(res, login.page(req.method ?? 'GET', url, form));
    }
    const route = ROUTES[url.pathname];
    if (!route) return write(res, json(404, { code: 'NotFound', message: `no such API: ${url.pathname}` }));
    calls[route.endpoint] = (calls[route.endpoint] ?? 0) + 1;
    const raw = await readBody(req, res);
    if (raw === undefined) return;
    if (!withinRate(route.endpoint)) {
      return write(res, json(200, fail(90018, '当前企业调用该接口超过限制，请降低调用频率')));
    }
    const fault = faults.take(route.endpoint);
    switch (fault?.type) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'http': {
        const isText = typeof fault.body === 'string';
        const body = isText ? (fault.body as string) : JSON.stringify(fault.body);
        const contentType =
          fault.contentType ?? (isText ? 'text/plain;charset=utf-8' : 'application/json;charset=utf-8');
        return write(res, { status: fault.status, body, contentType });
      }
      case 'errcode': {
        const sub =
          fault.subCode === undefined ? {} : { sub_code: String(fault.subCode), sub_msg: 'simulated fault' };
        return write(res, json(200, { ...fail(fault.errcode, 'simulated fault'), ...sub }));
      }
      case 'delay':
        if (!(await pause(fault.ms))) return;
        break;
    }
    const reply =
      req.method === route.method
        ? answer(route.endpoint, url, String(req.headers['content-type'] ?? ''), raw, req.headers)
        : route.endpoint === 'token' || LOGIN_API_ENDPOINTS.has(route.endpoint)
          ? json(405, { code: 'MethodNotAllowed', message: `use ${route.method}`, requestid: requestId() })
          : json(200, fail(43002, `需要${route.method}请求`));
    if (fault?.type !== 'trickle') return write(res, reply);
    const bytes = Buffer.from(reply.body);
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': bytes.length });
    for (let i = 0; i < bytes.length; i++) {
      if (res.destroyed) return;
      res.write(bytes.subarray(i, i + 1));
      if (!(await pause(fault.chunkDelayMs))) return;
    }
    res.end();
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) write(res, json(500, { code: 'InternalError', message: 'simulator error' }));
      else res.destroy();
    });
  });
  // Longer than a client's idle keep-alive use, so a reused socket is not closed under it.
  server.keepAliveTimeout = 30_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    host,
    port,
    appKey,
    get appSecret() {
      return appSecret;
    },
    agentId,
    inbox: messages.inbox,
    recalls: messages.recalls,
    get throttled() {
      return throttled;
    },
    calls,
    inject: (endpoint, fault, times = 1) => faults.inject(endpoint, fault, times),
    clearFaults: () => faults.clear(),
    expireTokens: () => tokens.expireAll(),
    rotateAppSecret: (secret) => {
      appSecret = secret;
    },
    issuedTokens: () => tokens.all(),
    corpId: SIMULATOR_DEFAULTS.corpId,
    mintInAppCode: (userid) => login.mintInAppCode(userid),
    issuedUserTokens: () => login.issuedUserTokens(),
    reset() {
      faults.clear();
      messages.reset();
      for (const key of Object.keys(calls) as SimEndpoint[]) delete calls[key];
      recent.clear();
      throttled = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        lifetime.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function write(res: http.ServerResponse, a: Answer): void {
  if (res.destroyed) return;
  res.writeHead(a.status, {
    ...a.headers,
    'content-type': a.contentType,
    'content-length': Buffer.byteLength(a.body),
  });
  res.end(a.body);
}

/** The request body as text, or undefined when it was too large (answered 413). */
async function readBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) {
      write(res, json(413, { code: 'PayloadTooLarge', message: 'request body too large' }));
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(raw: string): SimJson | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as SimJson) : undefined;
  } catch {
    return undefined;
  }
}
