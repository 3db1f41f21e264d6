import { parse as parseYaml } from 'yaml';
import type { ScenarioPolicy, Template } from '../domain/policy';
import { SCENARIOS, type ScenarioName } from '../domain/scenario';
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
  };
  /** Undefined selects the in-memory store. */
  storeUrl: string | undefined;
  /** HMAC key for codes; undefined → generated once and shared through the store. */
  codeSecret: Buffer | undefined;
  defaultLocale: string;
  scenarios: Record<ScenarioName, ScenarioPolicy>;
  /** How long TestScenario waits for DingTalk's send result. */
  deliveryCheckMs: number;
  /** Delay of the background read of the send result after each SendCode; 0 = none. */
  deliveryFollowUpMs: number;
  /** Sends per end-user IP address per hour (SendCodeRequest.client_ip); 0 = no limit. */
  maxSendsPerIpPerHour: number;
  /** How often the store is probed for the health status. */
  storeProbeMs: number;
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
    codeLength: r.int('CODE_LENGTH', code, 'length', DEFAULT_POLICY.codeLength, 4, 10),
    ttlSeconds: r.int('CODE_TTL_SECONDS', code, 'ttl_seconds', DEFAULT_POLICY.ttlSeconds, 30, 86_400),
    maxAttempts: r.int('CODE_MAX_ATTEMPTS', code, 'max_attempts', DEFAULT_POLICY.maxAttempts, 1, 100),
    resendIntervalSeconds: r.int(
      'CODE_RESEND_INTERVAL_SECONDS',
      code,
      'resend_interval_seconds',
      DEFAULT_POLICY.resendIntervalSeconds,
      0,
      86_400,
    ),
    maxSendsPerHour: r.int(
      'CODE_MAX_SENDS_PER_HOUR',
      code,
      'max_sends_per_hour',
      DEFAULT_POLICY.maxSendsPerHour,
      1,
      1000,
    ),
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
    },
    storeUrl: r.storeUrl('STORE_URL', r.top, 'store_url'),
    codeSecret,
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
    shutdownGraceMs: 1000 * r.int('SHUTDOWN_GRACE_SECONDS', r.top, 'shutdown_grace_seconds', 10, 0, 3600),
    storeProbeMs: r.int('STORE_PROBE_INTERVAL_MS', r.top, 'store_probe_interval_ms', 5000, 100, 600_000),
    metricsAddress: r.str('METRICS_ADDRESS', r.top, 'metrics_address')
      ? r.address('METRICS_ADDRESS', r.top, 'metrics_address', '', false)
      : undefined,
    sandboxAddress: r.address('SANDBOX_ADDRESS', r.top, 'sandbox_address', '127.0.0.1:50080', false),
    logLevel: r.oneOf('LOG_LEVEL', r.top, 'log_level', LOG_LEVELS) ?? 'info',
    authToken: undefined,
    tls: undefined,
    allowInsecureListen: false,
  };
  Object.assign(config, resolveTransport(r, readFile, config.listenAddress));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
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
    codeLength: r.int(undefined, y, 'code_length', base.codeLength, 4, 10),
    ttlSeconds: r.int(undefined, y, 'ttl_seconds', base.ttlSeconds, 30, 86_400),
    maxAttempts: r.int(undefined, y, 'max_attempts', base.maxAttempts, 1, 100),
    resendIntervalSeconds: r.int(
      undefined,
      y,
      'resend_interval_seconds',
      base.resendIntervalSeconds,
      0,
      86_400,
    ),
    maxSendsPerHour: r.int(undefined, y, 'max_sends_per_hour', base.maxSendsPerHour, 1, 1000),
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

  /** Undefined (in memory) when unset; otherwise a URL of a backend the store supports. */
  storeUrl(envName: string, y: Yaml, key: string): string | undefined {
    const s = this.str(envName, y, key);
    if (!s) return undefined;
    // Never echo the URL: it may carry a password.
    if (!/^(redis|rediss|postgres|postgresql):\/\/[^\s]+$/i.test(s)) {
      this.problems.push(`${envName}: must be a redis://, rediss://, postgres:// or postgresql:// URL`);
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
    authToken: c.authToken ? '[set]' : '[unset]',
    tls: c.tls ? { clientCertificates: c.tls.clientCa ? 'required' : 'not required' } : 'off',
    scenarios: Object.keys(c.scenarios),
  };
}

/** Hides a URL's password (store URLs carry credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable URL]';
  }
}

export { DEFAULT_LOCALES };
