import { ConfigError, loadConfig } from '../../src/config';
import {
  authorizeUrl,
  isLoginState,
  isLoginStateLive,
  isLoopbackRedirect,
  isRedirectAllowed,
  LOGIN_STATE_TTL_MS,
  loginStateKey,
  newLoginState,
  redirectPolicy,
  redirectUriProblem,
} from '../../src/domain/login';
import { randomBytes } from 'node:crypto';

describe('login state', () => {
  it('is 256 random bits, base64url, and recognised by its shape', () => {
    const sizes: number[] = [];
    const state = newLoginState((n) => {
      sizes.push(n);
      return Buffer.alloc(n, 0xfb);
    });
    expect(sizes).toEqual([32]);
    expect(state).toBe(Buffer.alloc(32, 0xfb).toString('base64url'));
    expect(isLoginState(state)).toBe(true);
    expect(isLoginState(newLoginState(randomBytes))).toBe(true);
    for (const bad of ['', 'a'.repeat(42), 'a'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}+`])
      expect([bad, isLoginState(bad)]).toEqual([bad, false]);
  });

  it('is stored under its SHA-256, never as itself', () => {
    const state = newLoginState(randomBytes);
    const key = loginStateKey(state);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(state);
    expect(loginStateKey(state)).toBe(key);
  });

  it('lives ten minutes, to the millisecond', () => {
    const record = { userId: 'u', redirectUri: 'https://x/cb', createdAt: 0, expiresAt: LOGIN_STATE_TTL_MS };
    expect(LOGIN_STATE_TTL_MS).toBe(600_000);
    expect(isLoginStateLive(record, LOGIN_STATE_TTL_MS - 1)).toBe(true);
    expect(isLoginStateLive(record, LOGIN_STATE_TTL_MS)).toBe(false);
  });
});

describe('redirect URIs', () => {
  it('must be absolute http(s) URLs with a host, no credentials and no fragment', () => {
    expect(redirectUriProblem('https://idp.example.com/dingtalk/callback?x=1')).toBeUndefined();
    expect(redirectUriProblem('http://127.0.0.1:8080/cb')).toBeUndefined();
    expect(redirectUriProblem('/callback')).toBe('is not an absolute URL');
    expect(redirectUriProblem('ftp://idp.example.com/cb')).toBe('is not an http(s) URL');
    expect(redirectUriProblem('https://u:p@idp.example.com/cb')).toBe(
      'must not carry a user name or password',
    );
    expect(redirectUriProblem('https://idp.example.com/cb#frag')).toBe('must not have a fragment');
    expect(redirectUriProblem('https://idp.example.com/cb#')).toBe('must not have a fragment');
  });

  it('match the configured list exactly: no prefix, no trailing slash, no added query', () => {
    const policy = redirectPolicy(['https://idp.example.com/cb'], true);
    expect(policy.kind).toBe('list');
    expect(isRedirectAllowed('https://idp.example.com/cb', policy)).toBe(true);
    for (const uri of [
      'https://idp.example.com/cb/',
      'https://idp.example.com/cb?next=/x',
      'https://idp.example.com/cb2',
      'https://IDP.example.com/cb',
      'http://127.0.0.1:8080/cb',
    ])
      expect([uri, isRedirectAllowed(uri, policy)]).toEqual([uri, false]);
  });

  it('without a list: loopback http only in the sandbox, nothing in live mode', () => {
    const sandbox = redirectPolicy([], true);
    expect(sandbox.kind).toBe('loopback');
    for (const uri of [
      'http://127.0.0.1:8080/cb',
      'http://localhost/cb',
      'http://localhost:3000/a?b=c',
      'http://[::1]:9/x',
    ])
      expect([uri, isRedirectAllowed(uri, sandbox), isLoopbackRedirect(uri)]).toEqual([uri, true, true]);
    for (const uri of [
      'https://127.0.0.1/cb',
      'http://127.0.0.1.evil.example/cb',
      'http://localhost.evil.example/cb',
      'http://evil.example/?http://127.0.0.1/',
      'http://127.0.0.1:8080/cb#x',
    ])
      expect([uri, isRedirectAllowed(uri, sandbox)]).toEqual([uri, false]);
    expect(redirectPolicy([], false)).toEqual({ kind: 'none' });
    expect(isRedirectAllowed('http://127.0.0.1:8080/cb', { kind: 'none' })).toBe(false);
  });
});

describe('the authorize URL', () => {
  it("is DingTalk's documented shape, every value encoded", () => {
    expect(
      authorizeUrl({
        loginUrl: 'https://login.dingtalk.com/',
        clientId: 'ding key',
        redirectUri: 'https://idp.example.com/cb?a=1&b=2',
        state: 'abc_-',
      }),
    ).toBe(
      'https://login.dingtalk.com/oauth2/auth?redirect_uri=https%3A%2F%2Fidp.example.com%2Fcb%3Fa%3D1%26b%3D2' +
        '&response_type=code&client_id=ding%20key&scope=openid%20corpid&state=abc_-&prompt=consent',
    );
  });
});

describe('login configuration', () => {
  const load = (env: Record<string, string>, yaml?: string) =>
    loadConfig({
      env: yaml === undefined ? env : { ...env, CONFIG_FILE: '/c.yaml' },
      readFile: () => yaml ?? '',
    });
  const problems = (env: Record<string, string>, yaml?: string): string[] => {
    try {
      load(env, yaml);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    throw new Error('expected a ConfigError');
  };

  it('defaults to login.dingtalk.com, no redirect URIs and no CorpId', () => {
    expect(load({}).dingtalk).toMatchObject({
      loginUrl: 'https://login.dingtalk.com',
      loginRedirectUris: [],
      corpId: undefined,
    });
  });

  it('reads a comma-separated list from the environment, a YAML list from the file', () => {
    const env = load({
      DINGTALK_LOGIN_URL: 'https://login.dingtalk.io/',
      DINGTALK_LOGIN_REDIRECT_URIS: ' https://a.example/cb , https://b.example/cb,',
      DINGTALK_CORP_ID: 'ding0123abcd',
    });
    expect(env.dingtalk).toMatchObject({
      loginUrl: 'https://login.dingtalk.io',
      loginRedirectUris: ['https://a.example/cb', 'https://b.example/cb'],
      corpId: 'ding0123abcd',
    });
    const file = load(
      {},
      'dingtalk:\n  login_redirect_uris:\n    - https://a.example/cb\n  corp_id: dingx\n',
    );
    expect(file.dingtalk).toMatchObject({ loginRedirectUris: ['https://a.example/cb'], corpId: 'dingx' });
  });

  it('refuses to start on a bad redirect URI, naming it, and on a bad login URL or CorpId', () => {
    expect(
      problems({ DINGTALK_LOGIN_REDIRECT_URIS: 'https://a.example/cb,https://b.example/cb#top' }),
    ).toEqual([
      'DINGTALK_LOGIN_REDIRECT_URIS: https://b.example/cb#top must not have a fragment; each must be an absolute http(s) URL without a fragment',
    ]);
    expect(problems({ DINGTALK_LOGIN_REDIRECT_URIS: '/relative' })[0]).toContain(
      '/relative is not an absolute URL',
    );
    expect(problems({ DINGTALK_LOGIN_URL: 'login.dingtalk.com' })).toEqual([
      'DINGTALK_LOGIN_URL: must be an http(s) URL',
    ]);
    expect(problems({ DINGTALK_CORP_ID: 'ding corp' })[0]).toMatch(/^DINGTALK_CORP_ID: /);
    expect(problems({}, 'dingtalk:\n  login_redirect_uris: 3\n')[0]).toContain(
      'must be a comma-separated string or a list',
    );
  });
});
