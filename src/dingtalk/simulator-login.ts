import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { renderLoginError, renderLoginPage, type AuthorizeRequest } from './simulator-login-page';
import { fail, ok, requestId, str, type SimJson } from './simulator-state';
import type { SimLoginAccount, SimUser } from './simulator-users';

/** Login codes (the redirect's authCode, in-app codes) live this long, and are good once. */
export const SIM_LOGIN_CODE_TTL_MS = 5 * 60_000;
const USER_TOKEN_TTL_SECONDS = 7200;

/** The new-API login endpoints the simulator answers, by their SimEndpoint names. */
export const LOGIN_API_ENDPOINTS = new Set(['user_access_token', 'login_user']);

export interface SimPage {
  status: number;
  body: string;
  contentType: string;
  headers?: Record<string, string>;
}

export interface LoginDeskOptions {
  appKey: string;
  /** Read per request: the secret can be rotated. */
  appSecret: () => string;
  appName: string;
  corpId: string;
  corpName: string;
  /** The organisation's members (the directory). */
  members: () => readonly SimUser[];
  /** Accounts that can log in but are no members. */
  others: readonly SimLoginAccount[];
  now: () => number;
}

interface Account {
  unionid: string;
  name: string;
  corpId: string;
}

const html = (status: number, body: string, headers?: Record<string, string>): SimPage => ({
  status,
  body,
  contentType: 'text/html;charset=utf-8',
  headers,
});
const apiError = (status: number, code: string, message: string) => ({
  status,
  json: { code, message, requestid: requestId() } as SimJson,
});
const newCode = () => randomBytes(16).toString('hex');

/**
 * DingTalk's login as the sandbox plays it: the authorize page (GET /oauth2/auth), the
 * choice that redirects back with `authCode` and `state`, the code exchange
 * (userAccessToken), users/me, and getuserinfo for in-app codes. Codes are single-use and
 * expire after five minutes; user tokens are kept apart from app tokens.
 */
export function createLoginDesk(o: LoginDeskOptions) {
  const authCodes = new Map<string, { account: Account; clientId: string; expiresAt: number }>();
  const userTokens = new Map<string, { account: Account; expiresAt: number }>();
  const inAppCodes = new Map<string, { user: SimUser; expiresAt: number }>();

  const accounts = (): Account[] => [
    ...o
      .members()
      .filter((u) => u.active)
      .map((u) => ({ unionid: u.unionid, name: u.name, corpId: o.corpId })),
    ...o.others.map((a) => ({ unionid: a.unionid, name: a.name, corpId: a.corpId })),
  ];

  /** Takes a single-use code: gone after the first look, valid or not. */
  const take = <T extends { expiresAt: number }>(map: Map<string, T>, code: string): T | undefined => {
    const entry = map.get(code);
    map.delete(code);
    return entry && entry.expiresAt > o.now() ? entry : undefined;
  };

  /** Why DingTalk would refuse to show the page, or undefined. */
  const refusal = (r: AuthorizeRequest): string | undefined => {
    if (r.clientId !== o.appKey) return `no app has the client_id ${r.clientId || '(none)'}`;
    if (r.responseType !== 'code') return 'response_type must be code';
    if (!r.scope.split(/\s+/).includes('openid')) return 'scope must include openid';
    try {
      const u = new URL(r.redirectUri);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      return 'redirect_uri is missing or not an absolute http(s) URL';
    }
    return undefined;
  };

  const back = (r: AuthorizeRequest, params: Record<string, string>): SimPage => {
    const target = new URL(r.redirectUri);
    for (const [k, v] of Object.entries(params)) target.searchParams.set(k, v);
    if (r.state !== '') target.searchParams.set('state', r.state);
    return html(302, '', { location: target.toString() });
  };

  return {
    /** GET /oauth2/auth (the page) and POST /oauth2/auth/confirm (the choice, form-encoded). */
    page(method: string, url: URL, raw: string): SimPage {
      const confirm = url.pathname === '/oauth2/auth/confirm';
      if (method !== (confirm ? 'POST' : 'GET'))
        return html(405, renderLoginError(`use ${confirm ? 'POST' : 'GET'}`));
      const q = confirm ? new URLSearchParams(raw) : url.searchParams;
      const request: AuthorizeRequest = {
        clientId: q.get('client_id') ?? '',
        redirectUri: q.get('redirect_uri') ?? '',
        responseType: q.get('response_type') ?? '',
        scope: q.get('scope') ?? '',
        state: q.get('state') ?? '',
      };
      const problem = refusal(request);
      if (problem) return html(400, renderLoginError(problem));
      if (!confirm) {
        const choices = accounts().map((a) => ({
          name: a.name,
          unionid: a.unionid,
          organisation:
            a.corpId === o.corpId ? `${o.corpName} (${a.corpId})` : `another organisation (${a.corpId})`,
        }));
        return html(200, renderLoginPage(o.appName, request, choices));
      }
      if (q.get('decision') === 'deny') return back(request, { error: 'access_denied' });
      const account = accounts().find((a) => a.unionid === q.get('unionid'));
      if (!account) return html(400, renderLoginError('no such account'));
      const code = newCode();
      authCodes.set(code, {
        account,
        clientId: request.clientId,
        expiresAt: o.now() + SIM_LOGIN_CODE_TTL_MS,
      });
      return back(request, { authCode: code });
    },

    /** The new-API login endpoints: POST userAccessToken, GET users/me. */
    answer(endpoint: string, headers: IncomingHttpHeaders, contentType: string, raw: string) {
      if (endpoint === 'login_user') {
        const token = headers['x-acs-dingtalk-access-token'];
        if (typeof token !== 'string' || token === '')
          return apiError(
            400,
            'MissingxAcsDingtalkAccessToken',
            'x-acs-dingtalk-access-token is mandatory for this action.',
          );
        const held = userTokens.get(token);
        if (!held || held.expiresAt <= o.now())
          return apiError(401, 'InvalidAuthentication', '不合法的access_token');
        const a = held.account;
        // No userId, and no mobile: that needs Contact.User.mobile, which the sandbox app lacks.
        return {
          status: 200,
          json: {
            nick: a.name,
            avatarUrl: '',
            openId: `open-${a.unionid}`,
            unionId: a.unionid,
            stateCode: '86',
          },
        };
      }
      let body: SimJson | undefined;
      try {
        const parsed: unknown = /application\/json/i.test(contentType) ? JSON.parse(raw) : undefined;
        body =
          parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as SimJson) : undefined;
      } catch {
        body = undefined;
      }
      for (const field of ['clientId', 'clientSecret', 'code', 'grantType']) {
        if (!str(body?.[field]))
          return apiError(400, `Missing${field}`, `${field} is mandatory for this action.`);
      }
      if (str(body!.clientId) !== o.appKey || str(body!.clientSecret) !== o.appSecret())
        return apiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret');
      if (str(body!.grantType) !== 'authorization_code')
        return apiError(400, 'invalidGrantType', 'grantType must be authorization_code');
      const issued = take(authCodes, str(body!.code)!);
      if (!issued || issued.clientId !== str(body!.clientId))
        return apiError(400, 'invalidAuthCode', '不合法的临时授权码: invalid, expired or already used');
      const token = newCode();
      userTokens.set(token, { account: issued.account, expiresAt: o.now() + USER_TOKEN_TTL_SECONDS * 1000 });
      return {
        status: 200,
        json: {
          accessToken: token,
          refreshToken: newCode(),
          expireIn: USER_TOKEN_TTL_SECONDS,
          corpId: issued.account.corpId,
        },
      };
    },

    /** oapi getuserinfo (the app token already checked): an in-app code's member. */
    getUserInfo(body: SimJson): SimJson {
      const code = str(body.code);
      if (!code) return fail(40035, '缺少参数 code');
      const held = take(inAppCodes, code);
      if (!held) return fail(40078, '不存在的临时授权码');
      const u = held.user;
      return ok({
        result: {
          userid: u.userid,
          unionid: u.unionid,
          name: u.name,
          sys_level: 0,
          associated_unionid: '',
          device_id: 'sim-device',
        },
      });
    },

    /** An in-app auth code for a member, as dd.requestAuthCode gives one inside DingTalk. */
    mintInAppCode(userid: string): string {
      const user = o.members().find((u) => u.userid === userid && u.active);
      if (!user) throw new Error(`no active member ${userid} in the simulated organisation`);
      const code = newCode();
      inAppCodes.set(code, { user, expiresAt: o.now() + SIM_LOGIN_CODE_TTL_MS });
      return code;
    },

    issuedUserTokens: (): string[] => [...userTokens.keys()],
  };
}
