import { parse as parseYaml } from 'yaml';
import { HOOKS_OFF, redactHooks, resolveHooks, type HooksConfig } from './hooks';
import { DEFAULT_FAILURE_RULE, type FailureRule } from '../domain/lockout';
import type { ScenarioPolicy, Template } from '../domain/policy';
import { redirectUriProblem } from '../domain/login';
import { SCENARIOS, type ScenarioName } from '../domain/scenario';
import {
  POLICY_LIMITS,
  SCENARIO_FIELDS,
  type RuntimeSettings,
  type SettingPath,
  type SettingSource,
} from '../domain/settings';
import {
  DEFAULT_LOCALES,
  defaultTemplates,
  MAX_MESSAGE_BYTES,
  messageBytes,
  renderMessage,
  templateProblems,
} from '../domain/template';

/** Everything the gateway needs, resolved and validated once at start. */
export interface Config {
  listenAddress: string;
  enabled: boolean;
  mode: 'live' | 'sandbox';
  production: boolean;
  dingtalk: {
    agentId: number;
    appKey: string;
    /** Never logged or returned; see redactConfig. */
    appSecret: string;
    apiUrl: string;
    oapiUrl: string;
    timeoutMs: number;
    /** Connections per DingTalk host (keep-alive pool); calls beyond it wait for a free one. */
    maxConnections: number;
    /** Calls per DingTalk API in any one-second span, over all replicas sharing the store; 0 = no limit. */
    maxCallsPerSecond: number;
    /** Outages in a row that stop calls to DingTalk for circuitOpenMs; 0 = never. */
    circuitFailures: number;
    circuitOpenMs: number;
    /** DingTalk's login host (the authorize page), e.g. https://login.dingtalk.com. */
    loginUrl: string;
    /** The callback URLs StartDingTalkLogin accepts, matched exactly; empty: none (the sandbox: loopback). */
    loginRedirectUris: string[];
    /** The organisation a DingTalk login must be for; undefined checks none. */
    corpId: string | undefined;
  };
  /** Undefined selects the in-memory store. */
  storeUrl: string | undefined;
  /** HMAC key for codes; undefined → generated once and shared through the store. */
  codeSecret: Buffer | undefined;
  /** Also accepted, for codes issued before CODE_SECRET changed (CODE_SECRET_PREVIOUS). Never logged. */
  codeSecretPrevious: Buffer | undefined;
  /**
   * Generation of the key kept in the store (without CODE_SECRET): raising it on the replicas
   * rotates that key once, however many replicas start with it (see verification/code-secret.ts).
   */
  codeSecretGeneration: number;
  /** Failed verifications per user and scenario, across codes, that lock it, and for how long. */
  failureRule: FailureRule;
  defaultLocale: string;
  scenarios: Record<ScenarioName, ScenarioPolicy>;
  /** How long TestScenario waits for DingTalk's send result. */
  deliveryCheckMs: number;
  /** Delay of the background read of the send result after each SendCode; 0 = none. */
  deliveryFollowUpMs: number;
  /** Sends per end-user IP address per hour (SendCodeRequest.client_ip); 0 = no limit. */
  maxSendsPerIpPerHour: number;
  /** Messages (codes and tests) per user in any rolling 24 hours, over all scenarios; 0 = no limit. */
  maxSendsPerUserPerDay: number;
  /** Messages per user since their last approved code (within 24 hours); 0 = no limit. */
  maxSendsSinceSuccess: number;
  /** How often each replica claims due recalls from the store's shared due list. */
  recallPollMs: number;
  /** How often the store is probed for the health status. */
  storeProbeMs: number;
  /** Redis: replicas that must acknowledge a counted attempt or a consumed code (WAIT); 0 = none. */
  redisWaitReplicas: number;
  /** Redis: how long that WAIT may take (ms), under the 2 s store timeout. */
  redisWaitTimeoutMs: number;
  /** On SIGTERM, how long in-flight calls may take before they are cut off. */
  shutdownGraceMs: number;
  /** Where Prometheus metrics are served (GET /metrics); undefined turns them off. */
  metricsAddress: string | undefined;
  /** Where the sandbox's DingTalk simulator (and its inbox page) listens. */
  sandboxAddress: string;
  logLevel: string;
  /** Shared bearer token callers must present; undefined disables the check. Never logged. */
  authToken: string | undefined;
  /** Server TLS; with clientCa, clients must present a certificate it signed (mutual TLS). */
  tls: { cert: Buffer; key: Buffer; clientCa: Buffer | undefined } | undefined;
  /** Listen on a non-loopback address with neither TLS nor a token (explicit opt-in). */
  allowInsecureListen: boolean;
  /** Where each run-time-changeable setting's base value comes from (before runtime overrides). */
  sources: Record<SettingPath, SettingSource>;
  /** Whether UpdateConfig and the console may change settings; false keeps file and environment the only truth. */
  runtimeChanges: boolean;
  /** How often each replica reads the runtime settings from the store. */
  configPollMs: number;
  /** Seals the AppSecret kept in a shared store; undefined refuses to store one there. Never logged. */
  configEncryptionKey: string | undefined;
  /** Bearer token of the administrator (UpdateConfig, the console); distinct from authToken. Never logged. */
  adminToken: string | undefined;
  /** Where the admin console listens; undefined turns it off. */
  adminAddress: string | undefined;
  /** The HTTP hooks for identity servers that make their own codes (HOOKS_ADDRESS, HOOK_*; see config/hooks.ts). */
  hooks: HooksConfig;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Yaml = Record<string, unknown>;

export interface ConfigSources {
  env: Env;
  readFile: (path: string) => string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const DEFAULT_POLICY = {
  codeLength: 6,
  ttlSeconds: 300,
  maxAttempts: 5,
  resendIntervalSeconds: 60,
  maxSendsPerHour: 10,
  recall: true,
} as const;

/**
 * Resolves the configuration from the environment and, when CONFIG_FILE is set, a
 * YAML file. Environment variables win over the file. Every problem is collected
 * and reported together, each naming its setting.
 */
export function loadConfig({ env, readFile }: ConfigSources): Config {
  const problems: string[] = [];
  let file: Yaml = {};
  if (env.CONFIG_FILE) {
    try {
      const parsed: unknown = parseYaml(readFile(env.CONFIG_FILE));
      if (parsed !== null && parsed !== undefined && !isObject(parsed))
        problems.push('CONFIG_FILE: must hold a YAML mapping');
      else file = (parsed as Yaml | null) ?? {};
    } catch (e) {
      problems.push(`CONFIG_FILE: cannot read ${env.CONFIG_FILE}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const r = new Reader(env, file, problems);
  const dt = r.section('dingtalk');
  const code = r.section('code');

  const production = env.NODE_ENV === 'production';
  const agentIdRaw = r.str('DINGTALK_AGENT_ID', dt, 'agent_id');
  const appKey = r.str('DINGTALK_APP_KEY', dt, 'app_key') ?? '';
  let appSecret = r.str('DINGTALK_APP_SECRET', dt, 'app_secret');
  const secretFile = r.str('DINGTALK_APP_SECRET_FILE', dt, 'app_secret_file');
  if (secretFile !== undefined) {
    if (appSecret) problems.push('DINGTALK_APP_SECRET and DINGTALK_APP_SECRET_FILE: set only one');
    appSecret = r.fileContents('DINGTALK_APP_SECRET_FILE', secretFile, readFile);
  }
  const credentials = {
    DINGTALK_AGENT_ID: agentIdRaw,
    DINGTALK_APP_KEY: appKey || undefined,
    DINGTALK_APP_SECRET: appSecret,
  };
  const missing = Object.entries(credentials)
    .filter(([, v]) => v === undefined || v === '')
    .map(([k]) => k);
  const requestedMode = r.oneOf('GATEWAY_MODE', r.top, 'mode', ['auto', 'live', 'sandbox']) ?? 'auto';
  // Auto: all three credentials → live; none → sandbox; some → the operator meant live and forgot one.
  let mode: Config['mode'] = missing.length < 3 ? 'live' : 'sandbox';
  if (requestedMode !== 'auto') mode = requestedMode as Config['mode'];
  if (mode === 'live' && missing.length > 0) {
    const why =
      missing.length === 3 ? 'DingTalk credentials are required' : 'DingTalk credentials are incomplete';
    problems.push(
      `${missing.join(', ')}: ${why} in live mode${production ? ' (NODE_ENV=production never falls back to the sandbox)' : ''}`,
    );
  } else if (mode === 'sandbox' && production) {
    problems.push(
      missing.length > 0
        ? `${missing.join(', ')}: required when NODE_ENV=production (the sandbox is for development only)`
        : 'GATEWAY_MODE: sandbox is refused when NODE_ENV=production',
    );
  }
  let agentId = 0;
  if (agentIdRaw !== undefined && agentIdRaw !== '') {
    agentId = Number(agentIdRaw);
    if (!Number.isSafeInteger(agentId) || agentId <= 0)
      problems.push('DINGTALK_AGENT_ID: must be a positive integer');
  }

  const base: Omit<ScenarioPolicy, 'scenario' | 'templates' | 'enabled'> = {
    codeLength: r.int('CODE_LENGTH', code, 'length', DEFAULT_POLICY.codeLength, ...POLICY_LIMITS.code_length),
    ttlSeconds: r.int(
      'CODE_TTL_SECONDS',
      code,
      'ttl_seconds',
      DEFAULT_POLICY.ttlSeconds,
      ...POLICY_LIMITS.ttl_seconds,
    ),
    maxAttempts: r.int(
      'CODE_MAX_ATTEMPTS',
      code,
      'max_attempts',
      DEFAULT_POLICY.maxAttempts,
      ...POLICY_LIMITS.max_attempts,
    ),
    resendIntervalSeconds: r.int(
      'CODE_RESEND_INTERVAL_SECONDS',
      code,
      'resend_interval_seconds',
      DEFAULT_POLICY.resendIntervalSeconds,
      ...POLICY_LIMITS.resend_interval_seconds,
    ),
    maxSendsPerHour: r.int(
      'CODE_MAX_SENDS_PER_HOUR',
      code,
      'max_sends_per_hour',
      DEFAULT_POLICY.maxSendsPerHour,
      ...POLICY_LIMITS.max_sends_per_hour,
    ),
    recall: r.bool('CODE_RECALL', code, 'recall', DEFAULT_POLICY.recall),
  };
  const defaultLocale = r.str('DEFAULT_LOCALE', r.top, 'default_locale') ?? 'zh-CN';
  const scenarioSection = r.section('scenarios');
  for (const key of Object.keys(scenarioSection)) {
    if (!(SCENARIOS as readonly string[]).includes(key))
      problems.push(`scenarios.${key}: unknown scenario; expected one of ${SCENARIOS.join(', ')}`);
  }
  const scenarios = Object.fromEntries(
    SCENARIOS.map((s) => [
      s,
      resolveScenario(s, r.sub(scenarioSection, s, `scenarios.${s}`), base, defaultLocale, r),
    ]),
  ) as Record<ScenarioName, ScenarioPolicy>;

  const codeSecretRaw = r.str('CODE_SECRET', r.top, 'code_secret');
  let codeSecret: Buffer | undefined;
  if (codeSecretRaw !== undefined && codeSecretRaw !== '') {
    if (codeSecretRaw.length < 16)
      problems.push('CODE_SECRET: must be at least 16 characters (use 32+ random bytes)');
    codeSecret = Buffer.from(codeSecretRaw, 'utf8');
  }

  const config: Config = {
    listenAddress: r.address('LISTEN_ADDRESS', r.top, 'listen_address', '127.0.0.1:50051', true),
    enabled: r.bool('GATEWAY_ENABLED', r.top, 'enabled', true),
    mode,
    production,
    dingtalk: {
      agentId,
      appKey,
      appSecret: appSecret ?? '',
      apiUrl: r.url('DINGTALK_API_URL', dt, 'api_url', 'https://api.dingtalk.com'),
      oapiUrl: r.url('DINGTALK_OAPI_URL', dt, 'oapi_url', 'https://oapi.dingtalk.com'),
      timeoutMs: r.int('DINGTALK_TIMEOUT_MS', dt, 'timeout_ms', 5000, 100, 60_000),
      maxConnections: r.int('DINGTALK_MAX_CONNECTIONS', dt, 'max_connections', 32, 1, 1024),
      // DingTalk allows 20 calls/s per app and API (90018 beyond); the gate spaces calls to keep any second under it.
      maxCallsPerSecond: r.int('DINGTALK_MAX_CALLS_PER_SECOND', dt, 'max_calls_per_second', 20, 0, 100_000),
      circuitFailures: r.int('DINGTALK_CIRCUIT_FAILURES', dt, 'circuit_failures', 5, 0, 1000),
      circuitOpenMs: 1000 * r.int('DINGTALK_CIRCUIT_OPEN_SECONDS', dt, 'circuit_open_seconds', 10, 1, 3600),
      ...resolveLogin(r, dt),
    },
    storeUrl: r.storeUrl('STORE_URL', r.top, 'store_url'),
    codeSecret,
    ...resolveCodeSecretRotation(r, codeSecret),
    failureRule: resolveFailureRule(r, code),
    defaultLocale,
    scenarios,
    deliveryCheckMs: r.int('DELIVERY_CHECK_MS', r.top, 'delivery_check_ms', 3000, 0, 30_000),
    deliveryFollowUpMs: r.int('DELIVERY_FOLLOW_UP_MS', r.top, 'delivery_follow_up_ms', 5000, 0, 3_600_000),
    maxSendsPerIpPerHour: r.int(
      'CODE_MAX_SENDS_PER_IP_PER_HOUR',
      code,
      'max_sends_per_ip_per_hour',
      0,
      0,
      1_000_000,
    ),
    ...resolveUserBudget(r, code),
    recallPollMs: r.int('RECALL_POLL_MS', r.top, 'recall_poll_ms', 1000, 10, 60_000),
    shutdownGraceMs: 1000 * r.int('SHUTDOWN_GRACE_SECONDS', r.top, 'shutdown_grace_seconds', 10, 0, 3600),
    storeProbeMs: r.int('STORE_PROBE_INTERVAL_MS', r.top, 'store_probe_interval_ms', 5000, 100, 600_000),
    redisWaitReplicas: r.int('REDIS_WAIT_REPLICAS', r.top, 'redis_wait_replicas', 0, 0, 16),
    redisWaitTimeoutMs: r.int('REDIS_WAIT_TIMEOUT_MS', r.top, 'redis_wait_timeout_ms', 500, 1, 1900),
    metricsAddress: r.str('METRICS_ADDRESS', r.top, 'metrics_address')
      ? r.address('METRICS_ADDRESS', r.top, 'metrics_address', '', false)
      : undefined,
    sandboxAddress: r.address('SANDBOX_ADDRESS', r.top, 'sandbox_address', '127.0.0.1:50080', false),
    logLevel: r.oneOf('LOG_LEVEL', r.top, 'log_level', LOG_LEVELS) ?? 'info',
    authToken: undefined,
    tls: undefined,
    allowInsecureListen: false,
    sources: baseSources(env, file, mode),
    runtimeChanges: r.bool('CONFIG_RUNTIME_CHANGES', r.top, 'runtime_changes', true),
    configPollMs: r.int('CONFIG_POLL_MS', r.top, 'config_poll_ms', 1000, 100, 60_000),
    configEncryptionKey: undefined,
    adminToken: undefined,
    adminAddress: undefined,
    hooks: HOOKS_OFF,
  };
  Object.assign(config, resolveTransport(r, readFile, config.listenAddress));
  Object.assign(config, resolveAdmin(r, readFile, config));
  config.hooks = resolveHooks(r, readFile, config, isLocalAddress);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * A user's message budget over all scenarios. DingTalk delivers at most 500 work notifications
 * per user and app a day and silently drops the rest (143105), so the day's default stays far
 * below it; the since-success default follows NIST SP 800-63B-4's limit on unanswered
 * out-of-band requests (see docs/security.md#limits).
 */
function resolveUserBudget(
  r: Reader,
  code: Yaml,
): Pick<Config, 'maxSendsPerUserPerDay' | 'maxSendsSinceSuccess'> {
  return {
    maxSendsPerUserPerDay: r.int(
      'CODE_MAX_SENDS_PER_USER_PER_DAY',
      code,
      'max_sends_per_user_per_day',
      30,
      0,
      500,
    ),
    maxSendsSinceSuccess: r.int('CODE_MAX_SENDS_SINCE_SUCCESS', code, 'max_sends_since_success', 10, 0, 500),
  };
}

/**
 * Failed verifications across codes (domain/lockout.ts). NIST SP 800-63B rev. 4 caps consecutive
 * failures at 100, hence the range; the defaults are in docs/security.md#limits.
 */
function resolveFailureRule(r: Reader, code: Yaml): FailureRule {
  const d = DEFAULT_FAILURE_RULE;
  const seconds = (env: string, key: string, fallback: number, min: number, max: number) =>
    1000 * r.int(env, code, key, fallback / 1000, min, max);
  const rule: FailureRule = {
    maxFailures: r.int('CODE_MAX_FAILURES', code, 'max_failures', d.maxFailures, 1, 100),
    windowMs: seconds('CODE_FAILURE_WINDOW_SECONDS', 'failure_window_seconds', d.windowMs, 60, 2_592_000),
    lockoutMs: seconds('CODE_LOCKOUT_SECONDS', 'lockout_seconds', d.lockoutMs, 1, 86_400),
    maxLockoutMs: seconds('CODE_MAX_LOCKOUT_SECONDS', 'max_lockout_seconds', d.maxLockoutMs, 1, 604_800),
  };
  if (rule.maxLockoutMs < rule.lockoutMs)
    r.problems.push('CODE_MAX_LOCKOUT_SECONDS: must be at least CODE_LOCKOUT_SECONDS');
  return rule;
}

/** The previous HMAC key (CODE_SECRET rotated by hand), or the generation of the store-kept one. */
function resolveCodeSecretRotation(
  r: Reader,
  codeSecret: Buffer | undefined,
): Pick<Config, 'codeSecretPrevious' | 'codeSecretGeneration'> {
  const raw = r.str('CODE_SECRET_PREVIOUS', r.top, 'code_secret_previous') || undefined;
  let codeSecretPrevious: Buffer | undefined;
  if (raw !== undefined) {
    if (raw.length < 16) r.problems.push('CODE_SECRET_PREVIOUS: must be at least 16 characters');
    else if (!codeSecret)
      r.problems.push('CODE_SECRET_PREVIOUS: needs CODE_SECRET (the key that replaces it)');
    else if (codeSecret.equals(Buffer.from(raw, 'utf8')))
      r.problems.push('CODE_SECRET_PREVIOUS: must differ from CODE_SECRET');
    else codeSecretPrevious = Buffer.from(raw, 'utf8');
  }
  const codeSecretGeneration = r.int(
    'CODE_SECRET_GENERATION',
    r.top,
    'code_secret_generation',
    0,
    0,
    1_000_000,
  );
  if (codeSecretGeneration > 0 && codeSecret)
    r.problems.push(
      'CODE_SECRET_GENERATION: rotates the key kept in the store; with CODE_SECRET, rotate with CODE_SECRET_PREVIOUS',
    );
  return { codeSecretPrevious, codeSecretGeneration };
}

/** Binding through DingTalk login: the login host, the allowed callback URLs, the organisation. */
function resolveLogin(
  r: Reader,
  dt: Yaml,
): Pick<Config['dingtalk'], 'loginUrl' | 'loginRedirectUris' | 'corpId'> {
  const loginRedirectUris = r.list('DINGTALK_LOGIN_REDIRECT_URIS', dt, 'login_redirect_uris') ?? [];
  for (const uri of loginRedirectUris) {
    const problem = redirectUriProblem(uri);
    if (problem)
      r.problems.push(
        `DINGTALK_LOGIN_REDIRECT_URIS: ${uri} ${problem}; each must be an absolute http(s) URL without a fragment`,
      );
  }
  const corpId = r.str('DINGTALK_CORP_ID', dt, 'corp_id') || undefined;
  if (corpId !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(corpId))
    r.problems.push(
      'DINGTALK_CORP_ID: must be the CorpId the DingTalk developer console shows (letters, digits, _ . -)',
    );
  return {
    loginUrl: r.url('DINGTALK_LOGIN_URL', dt, 'login_url', 'https://login.dingtalk.com'),
    loginRedirectUris,
    corpId,
  };
}

/** Caller authentication and TLS, and the rule that an open port is never unprotected by accident. */
function resolveTransport(
  r: Reader,
  readFile: (p: string) => string,
  listenAddress: string,
): Pick<Config, 'authToken' | 'tls' | 'allowInsecureListen'> {
  const tlsSection = r.section('tls');
  let authToken = r.str('AUTH_TOKEN', r.top, 'auth_token') || undefined;
  const tokenFile = r.str('AUTH_TOKEN_FILE', r.top, 'auth_token_file');
  if (tokenFile) {
    if (authToken) r.problems.push('AUTH_TOKEN and AUTH_TOKEN_FILE: set only one');
    authToken = r.fileContents('AUTH_TOKEN_FILE', tokenFile, readFile);
  }
  if (authToken !== undefined && authToken.length < 16)
    r.problems.push('AUTH_TOKEN: must be at least 16 characters');
  const certFile = r.str('TLS_CERT_FILE', tlsSection, 'cert_file');
  const keyFile = r.str('TLS_KEY_FILE', tlsSection, 'key_file');
  const caFile = r.str('TLS_CLIENT_CA_FILE', tlsSection, 'client_ca_file');
  let tls: Config['tls'];
  if (certFile || keyFile) {
    if (!certFile || !keyFile) r.problems.push('TLS_CERT_FILE and TLS_KEY_FILE: set both or neither');
    else {
      const cert = r.fileContents('TLS_CERT_FILE', certFile, readFile);
      const key = r.fileContents('TLS_KEY_FILE', keyFile, readFile);
      const ca = caFile ? r.fileContents('TLS_CLIENT_CA_FILE', caFile, readFile) : undefined;
      if (cert && key)
        tls = { cert: Buffer.from(cert), key: Buffer.from(key), clientCa: ca ? Buffer.from(ca) : undefined };
    }
  } else if (caFile) {
    r.problems.push('TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE');
  }
  const allowInsecureListen = r.bool('ALLOW_INSECURE_LISTEN', r.top, 'allow_insecure_listen', false);
  if (!isLocalAddress(listenAddress) && !tls && !authToken && !allowInsecureListen) {
    r.problems.push(
      `LISTEN_ADDRESS: ${listenAddress} is reachable from other hosts but neither TLS (TLS_CERT_FILE, TLS_KEY_FILE) nor a bearer token (AUTH_TOKEN) protects it; set one, or ALLOW_INSECURE_LISTEN=true if the network is trusted`,
    );
  }
  return { authToken, tls, allowInsecureListen };
}

/** The administrator's credential, the console's address and the key that seals the AppSecret. */
function resolveAdmin(
  r: Reader,
  readFile: (p: string) => string,
  config: Config,
): Pick<Config, 'adminToken' | 'adminAddress' | 'configEncryptionKey'> {
  const secret = (name: string, key: string, minLength: number, what: string): string | undefined => {
    let value = r.str(name, r.top, key) || undefined;
    const file = r.str(`${name}_FILE`, r.top, `${key}_file`);
    if (file) {
      if (value) r.problems.push(`${name} and ${name}_FILE: set only one`);
      value = r.fileContents(`${name}_FILE`, file, readFile);
    }
    if (value !== undefined && value.length < minLength)
      r.problems.push(`${name}: must be at least ${minLength} characters (${what})`);
    return value;
  };
  const adminToken = secret('ADMIN_TOKEN', 'admin_token', 16, 'use 32+ random characters');
  if (adminToken !== undefined && adminToken === config.authToken)
    r.problems.push(
      'ADMIN_TOKEN: must differ from AUTH_TOKEN (the identity server must not be an administrator)',
    );
  const configEncryptionKey = secret(
    'CONFIG_ENCRYPTION_KEY',
    'config_encryption_key',
    32,
    'for example `openssl rand -base64 32`',
  );
  // The console is on by default in the sandbox, on loopback; elsewhere only where asked for.
  const fallback = config.mode === 'sandbox' ? '127.0.0.1:50090' : '';
  const raw = r.str('ADMIN_ADDRESS', r.top, 'admin_address') ?? fallback;
  const adminAddress =
    raw === '' || raw === 'off' ? undefined : r.address('ADMIN_ADDRESS', r.top, 'admin_address', raw, false);
  if (adminAddress && !isLocalAddress(adminAddress) && !config.tls && !config.allowInsecureListen)
    r.problems.push(
      `ADMIN_ADDRESS: ${adminAddress} is reachable from other hosts, but the console would send its session cookie without TLS; serve TLS (TLS_CERT_FILE, TLS_KEY_FILE) or set ALLOW_INSECURE_LISTEN=true behind a TLS proxy`,
    );
  return { adminToken, adminAddress, configEncryptionKey };
}

/**
 * Where each changeable setting's base value comes from, by the same precedence the reader
 * applies: a scenario's own YAML key, then the environment, then the YAML `code` section.
 */
function baseSources(env: Env, file: Yaml, mode: Config['mode']): Record<SettingPath, SettingSource> {
  const inFile = (...keys: string[]): boolean => {
    let at: unknown = file;
    for (const k of keys) at = isObject(at) ? at[k] : undefined;
    return at !== undefined && at !== null;
  };
  const of = (envNames: string[], ...keys: string[][]): SettingSource =>
    envNames.some((n) => env[n] !== undefined)
      ? 'environment'
      : keys.some((k) => inFile(...k))
        ? 'file'
        : 'default';
  // In the sandbox the credentials are the simulator's.
  const credential = (envName: string, key: string): SettingSource =>
    mode === 'sandbox'
      ? 'default'
      : of([envName, `${envName}_FILE`], ['dingtalk', key], ['dingtalk', `${key}_file`]);
  const sources = {
    enabled: of(['GATEWAY_ENABLED'], ['enabled']),
    agent_id: credential('DINGTALK_AGENT_ID', 'agent_id'),
    app_key: credential('DINGTALK_APP_KEY', 'app_key'),
    app_secret: credential('DINGTALK_APP_SECRET', 'app_secret'),
  } as Record<SettingPath, SettingSource>;
  const codeKeys: Record<string, [string, string]> = {
    code_length: ['CODE_LENGTH', 'length'],
    ttl_seconds: ['CODE_TTL_SECONDS', 'ttl_seconds'],
    max_attempts: ['CODE_MAX_ATTEMPTS', 'max_attempts'],
    resend_interval_seconds: ['CODE_RESEND_INTERVAL_SECONDS', 'resend_interval_seconds'],
    max_sends_per_hour: ['CODE_MAX_SENDS_PER_HOUR', 'max_sends_per_hour'],
    recall: ['CODE_RECALL', 'recall'],
  };
  for (const s of SCENARIOS) {
    for (const f of SCENARIO_FIELDS) {
      const own = inFile('scenarios', s, f);
      const shared = codeKeys[f];
      sources[`scenarios.${s}.${f}`] = own
        ? 'file'
        : shared
          ? of([shared[0]], ['code', shared[1]])
          : 'default';
    }
  }
  return sources;
}

/** The run-time-changeable part of a configuration, as loaded: the base the overrides go on. */
export const baseSettings = (c: Config): RuntimeSettings => ({
  enabled: c.enabled,
  agentId: c.dingtalk.agentId,
  appKey: c.dingtalk.appKey,
  appSecret: c.dingtalk.appSecret,
  defaultLocale: c.defaultLocale,
  scenarios: c.scenarios,
});

/** Unix sockets and loopback addresses are reachable from this host (or pod) only. */
export function isLocalAddress(address: string): boolean {
  if (address.startsWith('unix:')) return true;
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function resolveScenario(
  scenario: ScenarioName,
  y: Yaml,
  base: Omit<ScenarioPolicy, 'scenario' | 'templates' | 'enabled'>,
  defaultLocale: string,
  r: Reader,
): ScenarioPolicy {
  const at = `scenarios.${scenario}`;
  const templates = defaultTemplates(scenario);
  const custom = r.sub(y, 'templates', `${at}.templates`);
  for (const [locale, value] of Object.entries(custom)) {
    if (!isObject(value) || typeof value.title !== 'string' || typeof value.text !== 'string') {
      r.problems.push(`${at}.templates.${locale}: needs string fields title and text`);
      continue;
    }
    const t: Template = { title: value.title, text: value.text };
    for (const p of templateProblems(t)) r.problems.push(`${at}.templates.${locale}: ${p}`);
    templates[locale] = t;
  }
  if (!templates[defaultLocale]) {
    r.problems.push(
      `DEFAULT_LOCALE: ${defaultLocale} has no template for ${scenario}; have ${Object.keys(templates).join(', ')}`,
    );
  }
  const policy: ScenarioPolicy = {
    scenario,
    enabled: r.bool(undefined, y, 'enabled', true),
    codeLength: r.int(undefined, y, 'code_length', base.codeLength, ...POLICY_LIMITS.code_length),
    ttlSeconds: r.int(undefined, y, 'ttl_seconds', base.ttlSeconds, ...POLICY_LIMITS.ttl_seconds),
    maxAttempts: r.int(undefined, y, 'max_attempts', base.maxAttempts, ...POLICY_LIMITS.max_attempts),
    resendIntervalSeconds: r.int(
      undefined,
      y,
      'resend_interval_seconds',
      base.resendIntervalSeconds,
      ...POLICY_LIMITS.resend_interval_seconds,
    ),
    maxSendsPerHour: r.int(
      undefined,
      y,
      'max_sends_per_hour',
      base.maxSendsPerHour,
      ...POLICY_LIMITS.max_sends_per_hour,
    ),
    recall: r.bool(undefined, y, 'recall', base.recall),
    templates,
  };
  for (const [locale, t] of Object.entries(templates)) {
    const rendered = renderMessage({
      template: t,
      locale,
      code: '9'.repeat(policy.codeLength),
      minutes: 1440,
      ref: 'X'.repeat(22),
      test: true,
    });
    if (messageBytes(rendered) > MAX_MESSAGE_BYTES) {
      r.problems.push(
        `${at}.templates.${locale}: renders to ${messageBytes(rendered)} bytes; DingTalk allows about ${MAX_MESSAGE_BYTES}`,
      );
    }
  }
  return policy;
}

/** Reads one setting from the environment (preferred) or the YAML file, recording problems. */
class Reader {
  readonly top: Yaml;
  /** The YAML path of each mapping handed out, so problems name the setting where it was written. */
  private readonly paths = new WeakMap<Yaml, string>();
  constructor(
    private readonly env: Env,
    file: Yaml,
    readonly problems: string[],
  ) {
    this.top = file;
  }

  section(key: string): Yaml {
    return this.sub(this.top, key, key);
  }

  sub(y: Yaml, key: string, path: string): Yaml {
    const v = y[key];
    if (v === undefined || v === null) return {};
    if (!isObject(v)) {
      this.problems.push(`${path}: must be a mapping`);
      return {};
    }
    this.paths.set(v, path);
    return v;
  }

  private raw(
    envName: string | undefined,
    y: Yaml,
    key: string,
  ): { name: string; value: unknown } | undefined {
    if (envName !== undefined && this.env[envName] !== undefined)
      return { name: envName, value: this.env[envName] };
    const at = this.paths.get(y);
    if (y[key] !== undefined && y[key] !== null) return { name: at ? `${at}.${key}` : key, value: y[key] };
    return undefined;
  }

  str(envName: string | undefined, y: Yaml, key: string): string | undefined {
    const v = this.raw(envName, y, key);
    if (v === undefined) return undefined;
    if (typeof v.value === 'number' || typeof v.value === 'string') return String(v.value).trim();
    this.problems.push(`${v.name}: must be a string`);
    return undefined;
  }

  int(envName: string | undefined, y: Yaml, key: string, fallback: number, min: number, max: number): number {
    const v = this.raw(envName, y, key);
    if (v === undefined) return fallback;
    const n = typeof v.value === 'number' ? v.value : Number(String(v.value).trim());
    if (!Number.isInteger(n) || n < min || n > max || String(v.value).trim() === '') {
      this.problems.push(`${v.name}: must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  bool(envName: string | undefined, y: Yaml, key: string, fallback: boolean): boolean {
    const v = this.raw(envName, y, key);
    if (v === undefined) return fallback;
    if (typeof v.value === 'boolean') return v.value;
    const s = String(v.value).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    this.problems.push(`${v.name}: must be true or false`);
    return fallback;
  }

  oneOf(envName: string, y: Yaml, key: string, allowed: readonly string[]): string | undefined {
    const s = this.str(envName, y, key);
    if (s === undefined || s === '') return undefined;
    if (!allowed.includes(s)) {
      this.problems.push(`${envName}: must be one of ${allowed.join(', ')}`);
      return undefined;
    }
    return s;
  }

  url(envName: string, y: Yaml, key: string, fallback: string): string {
    const s = this.str(envName, y, key) || fallback;
    try {
      const u = new URL(s);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      return s.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${envName}: must be an http(s) URL`);
      return fallback;
    }
  }

  /** A comma-separated string (the environment) or a YAML list of strings; blanks dropped. */
  list(envName: string, y: Yaml, key: string): string[] | undefined {
    const v = this.raw(envName, y, key);
    if (v === undefined) return undefined;
    const items = Array.isArray(v.value)
      ? v.value
      : typeof v.value === 'string'
        ? v.value.split(',')
        : undefined;
    if (items === undefined || !items.every((i) => typeof i === 'string')) {
      this.problems.push(`${v.name}: must be a comma-separated string or a list of strings`);
      return undefined;
    }
    return (items as string[]).map((i) => i.trim()).filter((i) => i !== '');
  }

  /** Undefined (in memory) when unset; otherwise a URL of a backend the store supports. */
  storeUrl(envName: string, y: Yaml, key: string): string | undefined {
    const s = this.str(envName, y, key);
    if (!s) return undefined;
    // Never echo the URL: it may carry a password.
    if (!/^(rediss?(\+sentinel|\+cluster)?|postgres|postgresql|mysql|mariadb):\/\/[^\s]+$/i.test(s)) {
      this.problems.push(
        `${envName}: must be a redis://, rediss://, redis+sentinel://host:26379,…/master, redis+cluster://host:7000,… (rediss+… for TLS), postgres://, postgresql://, mysql:// or mariadb:// URL`,
      );
      return undefined;
    }
    return s;
  }

  address(envName: string, y: Yaml, key: string, fallback: string, allowUnix: boolean): string {
    const s = this.str(envName, y, key) || fallback;
    if (allowUnix && s.startsWith('unix:')) {
      if (s.length <= 'unix:'.length) this.problems.push(`${envName}: unix: needs a path`);
      return s;
    }
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
    if (!m || Number(m[2]) > 65535) {
      this.problems.push(`${envName}: must be host:port${allowUnix ? ' or unix:/path' : ''}`);
      return fallback;
    }
    return s;
  }

  fileContents(envName: string, path: string, readFile: (p: string) => string): string | undefined {
    try {
      const contents = readFile(path).trim();
      if (!contents) this.problems.push(`${envName}: ${path} is empty`);
      return contents;
    } catch (e) {
      this.problems.push(`${envName}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
      return undefined;
    }
  }
}

const isObject = (v: unknown): v is Yaml => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy safe to log: secrets replaced by whether they are set. */
export function redactConfig(c: Config): Record<string, unknown> {
  return {
    ...c,
    dingtalk: { ...c.dingtalk, appSecret: c.dingtalk.appSecret ? '[set]' : '[unset]' },
    storeUrl: c.storeUrl ? redactUrl(c.storeUrl) : 'memory',
    codeSecret: c.codeSecret ? '[set]' : '[from store]',
    codeSecretPrevious: c.codeSecretPrevious ? '[set]' : '[unset]',
    authToken: c.authToken ? '[set]' : '[unset]',
    adminToken: c.adminToken ? '[set]' : '[unset]',
    configEncryptionKey: c.configEncryptionKey ? '[set]' : '[unset]',
    sources: undefined,
    tls: c.tls ? { clientCertificates: c.tls.clientCa ? 'required' : 'not required' } : 'off',
    scenarios: Object.keys(c.scenarios),
    hooks: redactHooks(c.hooks),
  };
}

/** Hides a URL's password (store URLs carry credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // redis+sentinel:// and redis+cluster:// list several host:port, which URL refuses.
    const m = /^([a-z+]+:\/\/)(?:([^:@/]*)(:[^@/]*)?@)?([^@]*)$/i.exec(url);
    if (!m) return '[unparseable URL]';
    return `${m[1]}${m[2] !== undefined ? `${m[2]}${m[3] ? ':***' : ''}@` : ''}${m[4]}`;
  }
}

export { DEFAULT_LOCALES };
