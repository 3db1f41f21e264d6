import { invalidArgument } from './errors';
import type { ScenarioPolicy, Template } from './policy';
import { SCENARIOS, type ScenarioName } from './scenario';
import { MAX_MESSAGE_BYTES, messageBytes, renderMessage, templateProblems } from './template';

/**
 * The settings an administrator may change while the gateway runs (the administrator's
 * page): the gateway switch, the DingTalk app's credentials and every scenario's switch,
 * policy and templates. Each has a path, the proto field name used in
 * UpdateConfigRequest.update_mask; the stored overrides are a flat map of path → value
 * on top of the base (default, file, environment), so reverting a field is removing it.
 */

export type SettingSource = 'default' | 'file' | 'environment' | 'runtime';

export const SCENARIO_FIELDS = [
  'enabled',
  'code_length',
  'ttl_seconds',
  'max_attempts',
  'resend_interval_seconds',
  'max_sends_per_hour',
  'templates',
  'recall',
] as const;
export type ScenarioField = (typeof SCENARIO_FIELDS)[number];

export const TOP_PATHS = ['enabled', 'agent_id', 'app_key', 'app_secret'] as const;
export type SettingPath = (typeof TOP_PATHS)[number] | `scenarios.${ScenarioName}.${ScenarioField}`;

/** Every path, in the order GetConfig lists them. */
export const SETTING_PATHS: readonly SettingPath[] = [
  ...TOP_PATHS,
  ...SCENARIOS.flatMap((s) => SCENARIO_FIELDS.map((f) => `scenarios.${s}.${f}` as const)),
];
const KNOWN = new Set<string>(SETTING_PATHS);
export const isSettingPath = (p: string): p is SettingPath => KNOWN.has(p);

/** The changeable part of the configuration, as it is in force. */
export interface RuntimeSettings {
  enabled: boolean;
  agentId: number;
  appKey: string;
  /** Never logged or returned. */
  appSecret: string;
  defaultLocale: string;
  scenarios: Record<ScenarioName, ScenarioPolicy>;
}

/** A value as stored: the AppSecret only sealed (see config/secret-box). */
export type StoredValue = boolean | number | string | Record<string, Template> | { sealed: string };

/** The overrides document every replica reads from the shared store. */
export interface StoredSettings {
  /** Increases by one with every change; 0 means nothing was ever stored. */
  version: number;
  values: Partial<Record<SettingPath, StoredValue>>;
  updatedAt: number;
  /** Which credential made the last change (a name, never the credential). */
  updatedBy: string;
}

/** Limits of the numeric policy fields, shared with the start-up configuration. */
export const POLICY_LIMITS: Record<
  Exclude<ScenarioField, 'enabled' | 'templates' | 'recall'>,
  [number, number]
> = {
  code_length: [4, 10],
  ttl_seconds: [30, 86_400],
  max_attempts: [1, 100],
  resend_interval_seconds: [0, 86_400],
  max_sends_per_hour: [1, 1000],
};

/** Each scenario field's name in ScenarioPolicy (the proto's ScenarioConfig uses the same names). */
export const POLICY_KEYS = {
  enabled: 'enabled',
  code_length: 'codeLength',
  ttl_seconds: 'ttlSeconds',
  max_attempts: 'maxAttempts',
  resend_interval_seconds: 'resendIntervalSeconds',
  max_sends_per_hour: 'maxSendsPerHour',
  templates: 'templates',
  recall: 'recall',
} as const satisfies Record<ScenarioField, keyof ScenarioPolicy>;

const APP_KEY = /^[\x21-\x7e]{1,128}$/;
const APP_SECRET = /^[\x21-\x7e]{1,256}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

/** Reads a setting's value out of effective settings, in its stored form (the secret excepted). */
export function valueAt(s: RuntimeSettings, path: SettingPath): unknown {
  switch (path) {
    case 'enabled':
      return s.enabled;
    case 'agent_id':
      return s.agentId;
    case 'app_key':
      return s.appKey;
    case 'app_secret':
      return s.appSecret;
  }
  const [, scenario, field] = path.split('.') as [string, ScenarioName, ScenarioField];
  return s.scenarios[scenario][POLICY_KEYS[field]];
}

/**
 * Checks one new value for a path and returns it normalized; throws INVALID_ARGUMENT
 * naming the path. Templates are measured with `codeLength` digits; settingsProblems then
 * checks them against the code length in force.
 */
export function checkValue(path: SettingPath, value: unknown, codeLength = 4): StoredValue {
  const fail = (problem: string) => invalidArgument(path, problem);
  if (path === 'enabled' || path.endsWith('.enabled') || path.endsWith('.recall')) {
    if (typeof value !== 'boolean') throw fail('must be true or false');
    return value;
  }
  if (path === 'agent_id') {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      throw fail('must be a positive integer (the AgentId of the DingTalk app)');
    return value;
  }
  if (path === 'app_key') {
    if (typeof value !== 'string' || !APP_KEY.test(value))
      throw fail('must be 1-128 printable characters without spaces (the AppKey of the DingTalk app)');
    return value;
  }
  if (path === 'app_secret') {
    if (typeof value !== 'string' || !APP_SECRET.test(value))
      throw fail('must be 1-256 printable characters without spaces');
    return value;
  }
  const field = path.split('.')[2] as ScenarioField;
  if (field === 'templates') return checkTemplates(path, value, codeLength);
  const [min, max] = POLICY_LIMITS[field as keyof typeof POLICY_LIMITS];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw fail(`must be an integer from ${min} to ${max}`);
  return value;
}

function checkTemplates(path: string, value: unknown, codeLength: number): Record<string, Template> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidArgument(path, 'must map locales to templates');
  const out: Record<string, Template> = {};
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw invalidArgument(path, 'needs at least one template');
  for (const [locale, t] of entries) {
    const at = `${path}.${locale}`;
    if (!LOCALE.test(locale)) throw invalidArgument(at, 'is not a BCP 47 tag such as zh-CN or en-US');
    const tt = t as Partial<Template> | null;
    if (typeof tt?.title !== 'string' || typeof tt.text !== 'string')
      throw invalidArgument(at, 'needs a title and a text');
    const template = { title: tt.title, text: tt.text };
    const problems = templateProblems(template);
    if (problems.length > 0) throw invalidArgument(at, problems.join('; '));
    const rendered = renderMessage({
      template,
      locale,
      code: '9'.repeat(codeLength),
      minutes: 1440,
      ref: 'X'.repeat(22),
      test: true,
    });
    const bytes = messageBytes(rendered);
    if (bytes > MAX_MESSAGE_BYTES)
      throw invalidArgument(at, `renders to ${bytes} bytes; DingTalk allows about ${MAX_MESSAGE_BYTES}`);
    out[locale] = template;
  }
  return out;
}

/**
 * The settings in force: the base with the stored overrides on top, and where each
 * value comes from. `open` turns a sealed AppSecret back into text.
 */
export function mergeSettings(
  base: RuntimeSettings,
  baseSources: Record<SettingPath, SettingSource>,
  stored: StoredSettings | undefined,
  open: (sealed: string) => string,
): { settings: RuntimeSettings; sources: Record<SettingPath, SettingSource> } {
  const sources = { ...baseSources };
  const settings: RuntimeSettings = {
    ...base,
    scenarios: Object.fromEntries(SCENARIOS.map((s) => [s, { ...base.scenarios[s] }])) as Record<
      ScenarioName,
      ScenarioPolicy
    >,
  };
  for (const [path, value] of Object.entries(stored?.values ?? {}) as Array<[SettingPath, StoredValue]>) {
    if (!isSettingPath(path)) continue; // written by a newer gateway: not ours to apply
    sources[path] = 'runtime';
    if (path === 'enabled') settings.enabled = value as boolean;
    else if (path === 'agent_id') settings.agentId = value as number;
    else if (path === 'app_key') settings.appKey = value as string;
    else if (path === 'app_secret') settings.appSecret = open((value as { sealed: string }).sealed);
    else {
      const [, scenario, field] = path.split('.') as [string, ScenarioName, ScenarioField];
      (settings.scenarios[scenario] as unknown as Record<string, unknown>)[POLICY_KEYS[field]] = value;
    }
  }
  return { settings, sources };
}

/** Problems of a whole merged configuration that no single field shows. */
export function settingsProblems(s: RuntimeSettings): Array<{ path: SettingPath; problem: string }> {
  const out: Array<{ path: SettingPath; problem: string }> = [];
  for (const scenario of SCENARIOS) {
    const p = s.scenarios[scenario];
    if (!p.templates[s.defaultLocale])
      out.push({
        path: `scenarios.${scenario}.templates`,
        problem: `needs a template for the default locale ${s.defaultLocale}`,
      });
    for (const [locale, t] of Object.entries(p.templates)) {
      const rendered = renderMessage({
        template: t,
        locale,
        code: '9'.repeat(p.codeLength),
        minutes: Math.ceil(p.ttlSeconds / 60),
        ref: 'X'.repeat(22),
        test: true,
      });
      if (messageBytes(rendered) > MAX_MESSAGE_BYTES)
        out.push({
          path: `scenarios.${scenario}.templates`,
          problem: `${locale} renders to more than ${MAX_MESSAGE_BYTES} bytes with ${p.codeLength}-digit codes`,
        });
    }
  }
  return out;
}
