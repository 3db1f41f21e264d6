import { ConfigError, loadConfig, redactConfig, redactUrl } from '../../src/config';

const live = { DINGTALK_AGENT_ID: '123', DINGTALK_APP_KEY: 'key', DINGTALK_APP_SECRET: 'sekret-value' };
const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' });
};
const load = (env: Record<string, string>, files: Record<string, string> = {}) =>
  loadConfig({ env, readFile: (p) => (p in files ? files[p] : noFiles(p)) });
const problems = (env: Record<string, string>, files: Record<string, string> = {}): string[] => {
  try {
    load(env, files);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('defaults to the sandbox with the documented defaults', () => {
    const c = load({});
    expect(c.mode).toBe('sandbox');
    expect(c.listenAddress).toBe('127.0.0.1:50051');
    expect(c.storeUrl).toBeUndefined();
    expect(c.dingtalk.apiUrl).toBe('https://api.dingtalk.com');
    expect(c.dingtalk.oapiUrl).toBe('https://oapi.dingtalk.com');
    expect(c.dingtalk.maxConnections).toBe(32);
    expect(c.scenarios.login).toMatchObject({
      codeLength: 6,
      ttlSeconds: 300,
      maxAttempts: 5,
      resendIntervalSeconds: 60,
      maxSendsPerHour: 10,
    });
  });

  it('goes live when all three credentials are set', () => {
    const c = load(live);
    expect(c.mode).toBe('live');
    expect(c.dingtalk).toMatchObject({ agentId: 123, appKey: 'key', appSecret: 'sekret-value' });
  });

  it('refuses the sandbox in production, naming the missing settings', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      'DINGTALK_AGENT_ID, DINGTALK_APP_KEY, DINGTALK_APP_SECRET: required when NODE_ENV=production (the sandbox is for development only)',
    ]);
  });

  it('reports incomplete credentials', () => {
    expect(problems({ DINGTALK_APP_KEY: 'k' }).join()).toBeTruthy();
    const p = problems({ GATEWAY_MODE: 'live', DINGTALK_APP_KEY: 'k' });
    expect(p[0]).toContain('DINGTALK_AGENT_ID, DINGTALK_APP_SECRET: DingTalk credentials are incomplete');
  });

  it('reads the secret from a file and trims it', () => {
    const c = load(
      { ...live, DINGTALK_APP_SECRET: '', DINGTALK_APP_SECRET_FILE: '/run/secret' },
      { '/run/secret': 'from-file\n' },
    );
    expect(c.dingtalk.appSecret).toBe('from-file');
    expect(problems({ ...live, DINGTALK_APP_SECRET_FILE: '/nope' })).toEqual(
      expect.arrayContaining([
        expect.stringContaining('DINGTALK_APP_SECRET_FILE: cannot read /nope: ENOENT'),
      ]),
    );
  });

  it('collects every bad setting by name', () => {
    const p = problems({
      CODE_LENGTH: '3',
      CODE_TTL_SECONDS: 'soon',
      LOG_LEVEL: 'loud',
      LISTEN_ADDRESS: 'nowhere',
      DINGTALK_API_URL: 'ftp://x',
      GATEWAY_ENABLED: 'maybe',
      CODE_SECRET: 'short',
    });
    expect(p).toEqual([
      'CODE_LENGTH: must be an integer from 4 to 10',
      'CODE_TTL_SECONDS: must be an integer from 30 to 86400',
      'CODE_SECRET: must be at least 16 characters (use 32+ random bytes)',
      'LISTEN_ADDRESS: must be host:port or unix:/path',
      'GATEWAY_ENABLED: must be true or false',
      'DINGTALK_API_URL: must be an http(s) URL',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('accepts unix sockets and bracketed IPv6', () => {
    expect(load({ LISTEN_ADDRESS: 'unix:/run/gw.sock' }).listenAddress).toBe('unix:/run/gw.sock');
    expect(load({ LISTEN_ADDRESS: '[::1]:9000' }).listenAddress).toBe('[::1]:9000');
  });

  it('applies YAML per-scenario overrides and templates; env wins over the file', () => {
    const yaml = `
code:
  ttl_seconds: 600
scenarios:
  risk_warning:
    enabled: false
  login:
    max_attempts: 3
    templates:
      en-US:
        title: Your code
        text: "Code {code} ({minutes} min)"
      ja-JP:
        title: コード
        text: "{code}"
`;
    const c = load({ CONFIG_FILE: '/etc/gw.yaml', CODE_TTL_SECONDS: '120' }, { '/etc/gw.yaml': yaml });
    expect(c.scenarios.login.ttlSeconds).toBe(120);
    expect(c.scenarios.login.maxAttempts).toBe(3);
    expect(c.scenarios.risk_warning.enabled).toBe(false);
    expect(c.scenarios.login.templates['en-US']).toEqual({
      title: 'Your code',
      text: 'Code {code} ({minutes} min)',
    });
    expect(Object.keys(c.scenarios.login.templates).sort()).toEqual(['en-US', 'ja-JP', 'zh-CN']);
    expect(c.scenarios.two_factor.templates['ja-JP']).toBeUndefined();
  });

  it('recalls by default; CODE_RECALL, code.recall and scenarios.<name>.recall switch it, and say where from', () => {
    const c = load({});
    expect(Object.values(c.scenarios).every((p) => p.recall)).toBe(true);
    expect(c.recallPollMs).toBe(1000);
    expect(c.sources['scenarios.login.recall']).toBe('default');
    const yaml = 'code:\n  recall: false\nscenarios:\n  login:\n    recall: true\n';
    const f = load({ CONFIG_FILE: '/gw.yaml', RECALL_POLL_MS: '50' }, { '/gw.yaml': yaml });
    expect(f.scenarios.login.recall).toBe(true);
    expect(f.scenarios.risk_warning.recall).toBe(false);
    expect(f.recallPollMs).toBe(50);
    expect(f.sources['scenarios.login.recall']).toBe('file');
    expect(f.sources['scenarios.risk_warning.recall']).toBe('file');
    const e = load({ CODE_RECALL: 'off' });
    expect(e.scenarios.two_factor.recall).toBe(false);
    expect(e.sources['scenarios.two_factor.recall']).toBe('environment');
    expect(problems({ CODE_RECALL: 'maybe', RECALL_POLL_MS: '5' })).toEqual([
      'CODE_RECALL: must be true or false',
      'RECALL_POLL_MS: must be an integer from 10 to 60000',
    ]);
  });

  it('names bad YAML settings by their path', () => {
    const yaml = `
scenarios:
  login:
    code_length: 40
    templates:
      en-US: { title: "t", text: "no placeholder {name}" }
  logon: {}
`;
    expect(problems({ CONFIG_FILE: 'f' }, { f: yaml })).toEqual([
      'scenarios.logon: unknown scenario; expected one of login, password_recovery, two_factor, password_reset, risk_warning',
      'scenarios.login.templates.en-US: text lacks the {code} placeholder',
      'scenarios.login.templates.en-US: unknown placeholder {name}',
      'scenarios.login.code_length: must be an integer from 4 to 10',
    ]);
  });

  it('rejects templates too large for DingTalk', () => {
    const yaml = `scenarios:\n  login:\n    templates:\n      en-US: { title: t, text: "{code} ${'x'.repeat(2000)}" }\n`;
    expect(problems({ CONFIG_FILE: 'f' }, { f: yaml })[0]).toMatch(
      /scenarios.login.templates.en-US: renders to \d+ bytes/,
    );
  });

  it('reports unreadable and malformed files', () => {
    expect(problems({ CONFIG_FILE: '/missing.yaml' })[0]).toContain('CONFIG_FILE: cannot read /missing.yaml');
    expect(problems({ CONFIG_FILE: 'f' }, { f: '- a list' })).toEqual([
      'CONFIG_FILE: must hold a YAML mapping',
    ]);
  });
});

describe('redaction', () => {
  it('never shows secrets', () => {
    const c = load({
      ...live,
      CODE_SECRET: 'a-very-long-hmac-secret',
      STORE_URL: 'redis://user:pw@redis:6379/0',
    });
    const text = JSON.stringify(redactConfig(c));
    expect(text).not.toContain('sekret-value');
    expect(text).not.toContain('a-very-long-hmac-secret');
    expect(text).not.toContain(':pw@');
    expect(redactUrl('postgresql://u:p@h/db')).toBe('postgresql://u:***@h/db');
  });
});

describe('STORE_URL', () => {
  it('takes MySQL and MariaDB URLs, and names every form it takes without echoing the URL', () => {
    expect(load({ STORE_URL: 'mysql://u:pw@db:3306/gateway' }).storeUrl).toBe('mysql://u:pw@db:3306/gateway');
    expect(load({ STORE_URL: 'mariadb://u:pw@db/gateway' }).storeUrl).toBe('mariadb://u:pw@db/gateway');
    expect(redactUrl('mysql://u:pw@db:3306/gateway')).toBe('mysql://u:***@db:3306/gateway');
    const [problem] = problems({ STORE_URL: 'mongodb://u:hunter2@db/x' });
    expect(problem).toMatch(/^STORE_URL: must be a redis:\/\/.* mysql:\/\/ or mariadb:\/\/ URL$/);
    expect(problem).not.toContain('hunter2');
  });
});

describe('transport settings', () => {
  it('refuses a non-loopback address without TLS or a token, saying why', () => {
    expect(problems({ LISTEN_ADDRESS: '0.0.0.0:50051' })[0]).toMatch(
      /^LISTEN_ADDRESS: 0.0.0.0:50051 is reachable from other hosts but neither TLS .* nor a bearer token .* protects it/,
    );
    expect(load({ LISTEN_ADDRESS: '0.0.0.0:50051', AUTH_TOKEN: 'x'.repeat(16) }).authToken).toBe(
      'x'.repeat(16),
    );
    expect(load({ LISTEN_ADDRESS: '0.0.0.0:50051', ALLOW_INSECURE_LISTEN: 'true' }).allowInsecureListen).toBe(
      true,
    );
    for (const local of ['127.0.0.1:1', 'localhost:1', '[::1]:1', 'unix:/tmp/s'])
      expect(load({ LISTEN_ADDRESS: local }).listenAddress).toBe(local);
  });

  it('checks token and TLS settings', () => {
    expect(problems({ AUTH_TOKEN: 'short' })).toEqual(['AUTH_TOKEN: must be at least 16 characters']);
    expect(problems({ TLS_CERT_FILE: '/c' })).toEqual([
      'TLS_CERT_FILE and TLS_KEY_FILE: set both or neither',
    ]);
    expect(problems({ TLS_CLIENT_CA_FILE: '/ca' })).toEqual([
      'TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE',
    ]);
    const c = load(
      { TLS_CERT_FILE: '/c', TLS_KEY_FILE: '/k', AUTH_TOKEN_FILE: '/t' },
      { '/c': 'CERT', '/k': 'KEY', '/t': 'token-from-file-123456\n' },
    );
    expect(c.tls).toEqual({ cert: Buffer.from('CERT'), key: Buffer.from('KEY'), clientCa: undefined });
    expect(c.authToken).toBe('token-from-file-123456');
    expect(JSON.stringify(redactConfig(c))).not.toContain('token-from-file');
  });
});

describe('failures across codes and key rotation settings', () => {
  it('defaults to 20 failures in 24 hours, a 15-minute lock doubling up to 24 hours, no rotation', () => {
    const c = load({});
    expect(c.failureRule).toEqual({
      maxFailures: 20,
      windowMs: 86_400_000,
      lockoutMs: 900_000,
      maxLockoutMs: 86_400_000,
    });
    expect(c.codeSecretPrevious).toBeUndefined();
    expect(c.codeSecretGeneration).toBe(0);
  });

  it('reads the environment and the YAML code section, the environment winning', () => {
    const c = load(
      { CONFIG_FILE: '/c.yaml', CODE_MAX_FAILURES: '50' },
      {
        '/c.yaml':
          'code:\n  max_failures: 10\n  failure_window_seconds: 3600\n  lockout_seconds: 60\n  max_lockout_seconds: 600\n',
      },
    );
    expect(c.failureRule).toEqual({
      maxFailures: 50,
      windowMs: 3_600_000,
      lockoutMs: 60_000,
      maxLockoutMs: 600_000,
    });
  });

  it('checks the ranges, NIST’s cap of 100 failures included, and the order of the two lock lengths', () => {
    expect(
      problems({
        CODE_MAX_FAILURES: '101',
        CODE_FAILURE_WINDOW_SECONDS: '10',
        CODE_LOCKOUT_SECONDS: '0',
      }),
    ).toEqual([
      'CODE_MAX_FAILURES: must be an integer from 1 to 100',
      'CODE_FAILURE_WINDOW_SECONDS: must be an integer from 60 to 2592000',
      'CODE_LOCKOUT_SECONDS: must be an integer from 1 to 86400',
    ]);
    expect(problems({ CODE_LOCKOUT_SECONDS: '3600', CODE_MAX_LOCKOUT_SECONDS: '600' })).toEqual([
      'CODE_MAX_LOCKOUT_SECONDS: must be at least CODE_LOCKOUT_SECONDS',
    ]);
  });

  it('takes CODE_SECRET_PREVIOUS only beside a different CODE_SECRET, and never shows it', () => {
    const c = load({ CODE_SECRET: 'the-new-hmac-secret-1', CODE_SECRET_PREVIOUS: 'the-old-hmac-secret-1' });
    expect(c.codeSecretPrevious).toEqual(Buffer.from('the-old-hmac-secret-1'));
    expect(JSON.stringify(redactConfig(c))).not.toContain('the-old-hmac-secret-1');
    expect(problems({ CODE_SECRET_PREVIOUS: 'the-old-hmac-secret-1' })).toEqual([
      'CODE_SECRET_PREVIOUS: needs CODE_SECRET (the key that replaces it)',
    ]);
    expect(
      problems({ CODE_SECRET: 'same-hmac-secret-123', CODE_SECRET_PREVIOUS: 'same-hmac-secret-123' }),
    ).toEqual(['CODE_SECRET_PREVIOUS: must differ from CODE_SECRET']);
    expect(problems({ CODE_SECRET: 'the-new-hmac-secret-1', CODE_SECRET_PREVIOUS: 'short' })).toEqual([
      'CODE_SECRET_PREVIOUS: must be at least 16 characters',
    ]);
  });

  it('rotates the store-kept key by generation, not with CODE_SECRET', () => {
    expect(load({ CODE_SECRET_GENERATION: '3' }).codeSecretGeneration).toBe(3);
    expect(problems({ CODE_SECRET: 'the-new-hmac-secret-1', CODE_SECRET_GENERATION: '1' })).toEqual([
      'CODE_SECRET_GENERATION: rotates the key kept in the store; with CODE_SECRET, rotate with CODE_SECRET_PREVIOUS',
    ]);
  });
});

describe("a user's message budget", () => {
  it('defaults to 30 a day and 10 since the last success; the environment wins over the YAML code section', () => {
    expect(load({})).toMatchObject({ maxSendsPerUserPerDay: 30, maxSendsSinceSuccess: 10 });
    const c = load(
      { CONFIG_FILE: '/c.yaml', CODE_MAX_SENDS_SINCE_SUCCESS: '0' },
      { '/c.yaml': 'code:\n  max_sends_per_user_per_day: 50\n  max_sends_since_success: 5\n' },
    );
    expect(c).toMatchObject({ maxSendsPerUserPerDay: 50, maxSendsSinceSuccess: 0 });
  });

  it('stays within DingTalk’s 500 messages a day per user', () => {
    expect(problems({ CODE_MAX_SENDS_PER_USER_PER_DAY: '501', CODE_MAX_SENDS_SINCE_SUCCESS: '-1' })).toEqual([
      'CODE_MAX_SENDS_PER_USER_PER_DAY: must be an integer from 0 to 500',
      'CODE_MAX_SENDS_SINCE_SUCCESS: must be an integer from 0 to 500',
    ]);
  });
});
