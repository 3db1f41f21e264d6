import type { UpstreamKind } from '../domain/errors';

/** What one DingTalk error means and what the operator should do about it. */
export interface ErrcodeClass {
  kind: UpstreamKind;
  /** True when the same call may succeed if simply repeated (after a backoff). */
  retryable: boolean;
  /** Least wait before a retry; DingTalk's per-app limit (90018) resets once a second. */
  minDelayMs: number;
  /** Operator-facing: what is wrong and what to fix. */
  hint: string;
}

/** A classified error: `errcode` is the effective code (the sub_code when errcode 88 wrapped one). */
export interface ClassifiedErrcode extends ErrcodeClass {
  errcode: number;
}

const c = (kind: UpstreamKind, retryable: boolean, hint: string, minDelayMs = 0): ErrcodeClass => ({
  kind,
  retryable,
  minDelayMs,
  hint,
});

const TOKEN_HINT =
  'the access token was rejected; it is refetched once, so repeated failures mean the AppKey/AppSecret changed';
const CREDENTIALS_HINT =
  'DingTalk rejected the AppKey/AppSecret; copy both again from the app on the DingTalk open platform';
const PARAMETER_HINT =
  'DingTalk rejected the request parameters (a gateway bug or a wrong AgentId); check the AgentId';
const RECIPIENT_HINT = 'DingTalk does not know this user';

/**
 * The legacy (oapi) errcode table. Token errors are not marked retryable: the client
 * refetches the token once on its own, and a second rejection is final.
 */
const ERRCODES: Readonly<Record<number, ErrcodeClass>> = {
  [-1]: c('busy', true, 'DingTalk is busy; retried with backoff'),
  40001: c('token', false, TOKEN_HINT),
  40014: c('token', false, TOKEN_HINT),
  42001: c('token', false, TOKEN_HINT),
  40035: c('invalid_parameter', false, PARAMETER_HINT),
  400002: c('invalid_parameter', false, PARAMETER_HINT),
  40089: c('credentials', false, CREDENTIALS_HINT),
  40096: c('credentials', false, CREDENTIALS_HINT),
  60011: c(
    'permission',
    false,
    'the app lacks permission for this API; grant the app the address-book read permission (通讯录只读) on the DingTalk open platform',
  ),
  60020: c(
    'ip_whitelist',
    false,
    "the gateway's outbound IP is not in the app's whitelist; add the server IP to the app's whitelist on the DingTalk open platform",
  ),
  50002: c(
    'out_of_range',
    false,
    "the user is outside the app's authorised range; widen the app's visible range to include this user",
  ),
  60121: c('recipient', false, RECIPIENT_HINT),
  33012: c('recipient', false, 'DingTalk says the userid is invalid'),
  40104: c('recipient', false, 'DingTalk says the mobile number is invalid'),
  // getuserinfo's answer to an in-app auth code it does not know (不存在的临时授权码).
  40078: c(
    'login_code',
    false,
    'the DingTalk in-app auth code is invalid or was used (dd.requestAuthCode codes are single-use and valid 5 minutes); request a new one',
  ),
  90002: c('rate_limit', true, 'DingTalk rate-limits this API globally; retried with backoff'),
  90018: c(
    'rate_limit',
    true,
    'the app exceeded 20 calls per second on this API; retried after a second, reduce the call rate if it persists',
    1000,
  ),
  90020: c(
    'quota',
    false,
    "the organisation's monthly DingTalk API quota is used up; wait for next month or raise the quota",
  ),
  45009: c(
    'banned',
    false,
    'DingTalk throttled the app for calling too often; back off and reduce the call rate',
  ),
};

const UNKNOWN = c(
  'unknown',
  false,
  'an undocumented DingTalk error; see the errcode in the DingTalk documentation',
);
const BANNED_900XX = c(
  'banned',
  false,
  'DingTalk throttled or banned the caller; back off and reduce the call rate',
);

/** Classifies a legacy errcode; errcode 88 is classified by its sub_code when one is given. */
export function classifyErrcode(errcode: number, subCode?: number): ClassifiedErrcode {
  const effective = errcode === 88 && subCode !== undefined && subCode !== 0 ? subCode : errcode;
  const known = ERRCODES[effective];
  if (known) return { errcode: effective, ...known };
  if (effective >= 90000 && effective < 90100) return { errcode: effective, ...BANNED_900XX };
  return { errcode: effective, ...UNKNOWN };
}

/** Legacy equivalents of new-API error codes, so both families surface the same errcode. */
const API_CODES: Readonly<Record<string, number>> = {
  'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi': 90018,
  'Forbidden.AccessDenied.QpsLimitForApi': 90002,
  'Forbidden.AccessDenied.IpNotInWhiteList': 60020,
  'Forbidden.AccessDenied.AccessTokenPermissionDenied': 60011,
  InvalidAuthentication: 40014,
};

/**
 * The login endpoints' refusals of the user's one-time code or token. DingTalk documents
 * only that an invalid or used authCode is HTTP 400, not its `code`, so the status decides.
 */
const LOGIN_CODE_HINTS: Readonly<Record<string, string>> = {
  user_access_token:
    'the DingTalk login code is invalid or was used (authCodes are single-use and short-lived); start the login again',
  login_user: 'DingTalk refused the user access token of this login; start the login again',
};

/**
 * Classifies a new-API (`/v1.0/`) error: HTTP 4xx/5xx with `{code, message}`.
 * `errcode` is the documented legacy equivalent, 0 when there is none. `endpoint` tells
 * the login endpoints apart, whose HTTP 400/401 is about the user's code, not our request.
 */
export function classifyApiError(httpStatus: number, code: string, endpoint?: string): ClassifiedErrcode {
  const loginHint = endpoint === undefined ? undefined : LOGIN_CODE_HINTS[endpoint];
  if (
    loginHint !== undefined &&
    (httpStatus === 400 || httpStatus === 401) &&
    code !== 'invalidClientIdOrSecret' &&
    !code.startsWith('Forbidden.')
  ) {
    return { errcode: 0, ...c('login_code', false, loginHint) };
  }
  if (endpoint === 'login_user' && code === 'Forbidden.AccessDenied.AccessTokenPermissionDenied') {
    return {
      errcode: 60011,
      ...c(
        'permission',
        false,
        'the app lacks the Contact.User.Read permission that reading the logged-in user needs; grant it on the DingTalk open platform',
      ),
    };
  }
  const legacy = API_CODES[code];
  if (legacy !== undefined) return classifyErrcode(legacy);
  if (code === 'invalidClientIdOrSecret') return { errcode: 0, ...c('credentials', false, CREDENTIALS_HINT) };
  if (code.startsWith('Forbidden.AccessDenied')) {
    return {
      errcode: 0,
      ...c(
        'permission',
        false,
        `DingTalk denied access (${code}); check the app's permissions and whitelist`,
      ),
    };
  }
  if (httpStatus === 429)
    return { errcode: 0, ...c('rate_limit', true, 'DingTalk rate-limited the call; retried with backoff') };
  if (httpStatus === 401) return { errcode: 0, ...c('token', false, TOKEN_HINT) };
  if (httpStatus >= 500)
    return {
      errcode: 0,
      ...c('busy', true, `DingTalk failed with HTTP ${httpStatus}; retried with backoff`),
    };
  if (httpStatus === 400) return { errcode: 0, ...c('invalid_parameter', false, PARAMETER_HINT) };
  return { errcode: 0, ...UNKNOWN };
}

/**
 * A one-line, caller-safe description: "errcode 60011 (permission): grant the app…".
 * For errcode 88 it names both codes.
 */
export function describeErrcode(errcode: number, subCode?: number): string {
  const cls = classifyErrcode(errcode, subCode);
  const code = cls.errcode === errcode ? `errcode ${errcode}` : `errcode ${errcode}/sub_code ${cls.errcode}`;
  return `${code} (${cls.kind}): ${cls.hint}`;
}

/** Like describeErrcode, for a new-API error: "HTTP 400 invalidClientIdOrSecret (credentials): …". */
export function describeApiError(httpStatus: number, code: string, endpoint?: string): string {
  const cls = classifyApiError(httpStatus, code, endpoint);
  return `HTTP ${httpStatus} ${code} (${cls.kind}): ${cls.hint}`;
}
