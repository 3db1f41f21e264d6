import { createHash } from 'node:crypto';

/**
 * The rules of binding through DingTalk login (OAuth 2): the state that ties DingTalk's
 * redirect to the user who started the login, which redirect URIs may be used, and the
 * authorize URL. Pure: randomness and the clock come from the caller.
 */

/** How long a started login may be completed. */
export const LOGIN_STATE_TTL_MS = 10 * 60_000;

/** Random bytes in a state: 256 bits, well over OAuth's 128-bit floor. */
const STATE_BYTES = 32;
const STATE = /^[A-Za-z0-9_-]{43}$/;

/** A started login, kept in the store under the state's key until it is completed or expires. */
export interface LoginState {
  /** The identity user the binding is made for: it comes from here only, never from the completion. */
  userId: string;
  /** The callback URL the login was started with. */
  redirectUri: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  expiresAt: number;
}

/** A new state: 32 random bytes, base64url (43 characters). */
export const newLoginState = (random: (size: number) => Buffer): string =>
  random(STATE_BYTES).toString('base64url');

/** True for a string shaped like a state newLoginState makes. */
export const isLoginState = (value: string): boolean => STATE.test(value);

/**
 * The store key of a state: its SHA-256, so that whoever can read the store cannot complete
 * someone else's pending login with an authCode of their own.
 */
export const loginStateKey = (state: string): string =>
  createHash('sha256').update(state).digest('base64url');

/** True while the login may still be completed. */
export const isLoginStateLive = (record: LoginState, now: number): boolean => now < record.expiresAt;

/**
 * Which redirect URIs StartDingTalkLogin accepts: exactly those configured, or (the
 * sandbox, when none are) loopback http URLs only, or none at all.
 */
export type RedirectPolicy =
  { kind: 'list'; uris: readonly string[] } | { kind: 'loopback' } | { kind: 'none' };

/** The configured list wins; without one the sandbox allows loopback URLs and live mode nothing. */
export const redirectPolicy = (uris: readonly string[], sandbox: boolean): RedirectPolicy =>
  uris.length > 0 ? { kind: 'list', uris } : sandbox ? { kind: 'loopback' } : { kind: 'none' };

/**
 * Why `uri` cannot be a redirect URI, or undefined when it can: an absolute http(s) URL
 * with a host, no user name or password, and no fragment (DingTalk appends its query).
 */
export function redirectUriProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'is not an http(s) URL';
  if (u.hostname === '') return 'has no host';
  if (u.username !== '' || u.password !== '') return 'must not carry a user name or password';
  if (uri.includes('#')) return 'must not have a fragment';
  return undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** An http URL on this machine (127.0.0.1, localhost or [::1], any port): the sandbox's default. */
export const isLoopbackRedirect = (uri: string): boolean => {
  if (redirectUriProblem(uri) !== undefined) return false;
  const u = new URL(uri);
  return u.protocol === 'http:' && LOOPBACK_HOSTS.has(u.hostname);
};

/**
 * Whether a login may send the browser back to `uri`. A listed URI must match exactly, as
 * DingTalk matches it against the app's registered ones: no prefix or pattern, so no
 * open redirect.
 */
export function isRedirectAllowed(uri: string, policy: RedirectPolicy): boolean {
  switch (policy.kind) {
    case 'list':
      return policy.uris.includes(uri);
    case 'loopback':
      return isLoopbackRedirect(uri);
    case 'none':
      return false;
  }
}

/** DingTalk's login page for this app: `<loginUrl>/oauth2/auth?…`, asking for the organisation too. */
export function authorizeUrl(o: {
  loginUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
}): string {
  const q = (v: string) => encodeURIComponent(v);
  return (
    `${o.loginUrl.replace(/\/+$/, '')}/oauth2/auth?redirect_uri=${q(o.redirectUri)}` +
    `&response_type=code&client_id=${q(o.clientId)}&scope=openid%20corpid&state=${q(o.state)}&prompt=consent`
  );
}
