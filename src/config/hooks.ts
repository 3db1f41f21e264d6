import { HOOK_SERVERS, type HookServer } from '../domain/hook-scenarios';
import { SCENARIOS, type ScenarioName } from '../domain/scenario';

type Yaml = Record<string, unknown>;

/** What the hooks' settings need of the configuration reader (load.ts's Reader). */
export interface HookSettingsReader {
  readonly top: Yaml;
  readonly problems: string[];
  section(key: string): Yaml;
  str(envName: string | undefined, y: Yaml, key: string): string | undefined;
  int(envName: string | undefined, y: Yaml, key: string, fallback: number, min: number, max: number): number;
  oneOf(envName: string, y: Yaml, key: string, allowed: readonly string[]): string | undefined;
  address(envName: string, y: Yaml, key: string, fallback: string, allowUnix: boolean): string;
  fileContents(envName: string, path: string, readFile: (p: string) => string): string | undefined;
}

/** How a route's message is made: our scenario's template with the caller's code, or the caller's own text. */
export type HookMessage = 'template' | 'caller';

export interface HookRouteConfig {
  /**
   * The route's credential: the static token, API key or password a request must carry, the
   * ZITADEL signing key, or Supabase's `v1,whsec_…` secrets (several separated by `|` while
   * one is rotated out). Never logged (see redactHooks).
   */
  credential: string;
  message: HookMessage;
}

/** The HTTP hooks identity servers call to have their own codes delivered (src/hooks/). */
export interface HooksConfig {
  /** HOOKS_ADDRESS; undefined turns the hooks off. */
  address: string | undefined;
  /** The routes that are on: those whose credential is configured (in the sandbox: every one, with its demo credential). */
  routes: Partial<Record<HookServer, HookRouteConfig>>;
  /** The scenario for a caller's kind of message that maps to none (HOOK_DEFAULT_SCENARIO). */
  defaultScenario: ScenarioName;
  /** The largest request body a route reads; larger ones are refused with 413. */
  maxBodyBytes: number;
  /** How long a hook waits for DingTalk before answering "accepted" and finishing in the background. */
  answerWithinMs: number;
  /** How long a DingTalk user found by mobile is cached across replicas; 0 = not cached. */
  mobileCacheMs: number;
  /** True when the sandbox's documented demo credentials are in use (docs/identity-servers.md). */
  demoCredentials: boolean;
}

export const HOOKS_OFF: HooksConfig = {
  address: undefined,
  routes: {},
  defaultScenario: 'two_factor',
  maxBodyBytes: 64 * 1024,
  answerWithinMs: 4000,
  mobileCacheMs: 3_600_000,
  demoCredentials: false,
};

/** Each route's credential setting (also as `<NAME>_FILE`) and its message setting. */
const CREDENTIAL_ENV: Record<HookServer, string> = {
  kratos: 'HOOK_KRATOS_API_KEY',
  zitadel: 'HOOK_ZITADEL_SIGNING_KEY',
  supabase: 'HOOK_SUPABASE_SECRET',
  logto: 'HOOK_LOGTO_TOKEN',
  authentik: 'HOOK_AUTHENTIK_TOKEN',
  casdoor: 'HOOK_CASDOOR_TOKEN',
  generic: 'HOOK_GENERIC_TOKEN',
};

/**
 * The sandbox's credentials for routes that have none configured: documented, so the
 * recipes in docs/identity-servers.md work as they are. Safe because the sandbox only ever
 * talks to its simulated DingTalk, never runs with NODE_ENV=production, and serves its hooks
 * on loopback only.
 */
export const SANDBOX_HOOK_CREDENTIALS: Readonly<Record<HookServer, string>> = {
  kratos: 'sandbox-kratos-api-key',
  zitadel: 'sandbox-zitadel-signing-key',
  // base64 of "sandbox-supabase-send-sms-hook-key"
  supabase: 'v1,whsec_c2FuZGJveC1zdXBhYmFzZS1zZW5kLXNtcy1ob29rLWtleQ==',
  logto: 'sandbox-logto-token',
  authentik: 'sandbox-authentik-token',
  casdoor: 'sandbox-casdoor-token',
  generic: 'sandbox-generic-token',
};

/** Supabase's secret form: `v1,whsec_<base64 key>`; several separated by `|`. */
const SUPABASE_SECRET = /^v1,whsec_[A-Za-z0-9+/]+={0,2}$/;

/**
 * The hooks' settings. HOOKS_ADDRESS turns them on (in the sandbox they are on at
 * 127.0.0.1:50070 unless set to `off`); each route is on only with its credential (env or
 * `_FILE`), except in the sandbox, where a route without one takes its demo credential.
 */
export function resolveHooks(
  r: HookSettingsReader,
  readFile: (p: string) => string,
  c: { mode: 'live' | 'sandbox'; tls: unknown; allowInsecureListen: boolean },
  isLocalAddress: (address: string) => boolean,
): HooksConfig {
  const y = r.section('hooks');
  const fallback = c.mode === 'sandbox' ? '127.0.0.1:50070' : '';
  const raw = r.str('HOOKS_ADDRESS', y, 'address') ?? fallback;
  const address =
    raw === '' || raw === 'off' ? undefined : r.address('HOOKS_ADDRESS', y, 'address', raw, false);
  const routes: HooksConfig['routes'] = {};
  let demoCredentials = false;
  for (const name of HOOK_SERVERS) {
    const env = CREDENTIAL_ENV[name];
    let credential = r.str(env, y, `${name}_credential`) || undefined;
    const file = r.str(`${env}_FILE`, y, `${name}_credential_file`);
    if (file) {
      if (credential) r.problems.push(`${env} and ${env}_FILE: set only one`);
      credential = r.fileContents(`${env}_FILE`, file, readFile);
    }
    if (credential === undefined && c.mode === 'sandbox') {
      credential = SANDBOX_HOOK_CREDENTIALS[name];
      demoCredentials = true;
    }
    const message = (r.oneOf(`HOOK_${name.toUpperCase()}_MESSAGE`, y, `${name}_message`, [
      'template',
      'caller',
    ]) ?? 'template') as HookMessage;
    if (credential === undefined) continue;
    const problem = credentialProblem(name, credential);
    if (problem) r.problems.push(`${env}: ${problem}`);
    routes[name] = { credential, message };
  }
  const scenario = r.oneOf('HOOK_DEFAULT_SCENARIO', y, 'default_scenario', SCENARIOS) as
    ScenarioName | undefined;
  if (address && !isLocalAddress(address)) {
    if (demoCredentials)
      r.problems.push(
        `HOOKS_ADDRESS: ${address} is reachable from other hosts, but the sandbox's hooks use the documented demo credentials; keep them on loopback or configure every route's credential`,
      );
    else if (!c.tls && !c.allowInsecureListen)
      r.problems.push(
        `HOOKS_ADDRESS: ${address} is reachable from other hosts, but codes and mobile numbers would cross the network in clear; serve TLS (TLS_CERT_FILE, TLS_KEY_FILE) or set ALLOW_INSECURE_LISTEN=true behind a TLS proxy`,
      );
  }
  return {
    address,
    routes,
    defaultScenario: scenario ?? HOOKS_OFF.defaultScenario,
    maxBodyBytes: r.int(
      'HOOK_MAX_BODY_BYTES',
      y,
      'max_body_bytes',
      HOOKS_OFF.maxBodyBytes,
      1024,
      1024 * 1024,
    ),
    answerWithinMs: r.int(
      'HOOK_ANSWER_WITHIN_MS',
      y,
      'answer_within_ms',
      HOOKS_OFF.answerWithinMs,
      100,
      30_000,
    ),
    mobileCacheMs:
      1000 * r.int('MOBILE_LOOKUP_CACHE_SECONDS', r.top, 'mobile_lookup_cache_seconds', 3600, 0, 86_400),
    demoCredentials: demoCredentials && address !== undefined,
  };
}

function credentialProblem(name: HookServer, credential: string): string | undefined {
  if (name === 'supabase') {
    const parts = credential.split('|').map((s) => s.trim());
    if (!parts.every((p) => SUPABASE_SECRET.test(p)))
      return 'must be Supabase\'s secret form "v1,whsec_<base64>" (several separated by |)';
    if (parts.some((p) => Buffer.from(p.slice('v1,whsec_'.length), 'base64').length < 16))
      return 'its key (the base64 after whsec_) must decode to at least 16 bytes';
    return undefined;
  }
  return credential.length < 16 ? 'must be at least 16 characters (use 32+ random characters)' : undefined;
}

/** The hooks' settings safe to log: which routes are on, never their credentials. */
export const redactHooks = (h: HooksConfig): Record<string, unknown> => ({
  ...h,
  routes: Object.fromEntries(
    Object.entries(h.routes).map(([name, route]) => [name, { message: route.message }]),
  ),
});
