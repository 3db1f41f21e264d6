import type { ConfigView } from '../admin/service';
import type { SettingsChange } from '../config/live';
import { invalidArgument } from '../domain/errors';
import type { Template } from '../domain/policy';
import { isScenarioName } from '../domain/scenario';
import {
  isSettingPath,
  SETTING_PATHS,
  valueAt,
  type RuntimeSettings,
  type SettingPath,
} from '../domain/settings';

/** A setting's value as the console shows it (the AppSecret is never in a view: undefined). */
export function viewValue(view: ConfigView, path: SettingPath): unknown {
  if (path === 'app_secret') return undefined;
  return valueAt(
    {
      enabled: view.enabled,
      agentId: view.agentId,
      appKey: view.appKey,
      appSecret: '',
      defaultLocale: view.defaultLocale,
      scenarios: Object.fromEntries(
        view.scenarios.map((p) => [p.scenario, p]),
      ) as RuntimeSettings['scenarios'],
    },
    path,
  );
}

/** The form's `version`: the settings version the page was rendered with. */
export function formVersion(form: URLSearchParams): number {
  const raw = form.get('version') ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw invalidArgument('version', 'is missing: reload the page');
  return Number(raw);
}

function parseField(path: SettingPath, raw: string): unknown {
  if (path === 'enabled' || path.endsWith('.enabled') || path.endsWith('.recall')) {
    if (raw !== 'true' && raw !== 'false') throw invalidArgument(path, 'must be on or off');
    return raw === 'true';
  }
  if (path === 'app_key' || path === 'app_secret') return raw.trim();
  const text = raw.trim();
  if (!/^\d{1,15}$/.test(text)) throw invalidArgument(path, 'must be a whole number');
  return Number(text);
}

/**
 * The templates of a template form: rows `tpl.<n>.locale|title|text`, a row with
 * `tpl.<n>.remove` left out, an empty row (the "add a locale" one) ignored.
 */
export function formTemplates(form: URLSearchParams): Record<string, Template> {
  const out: Record<string, Template> = {};
  for (let n = 0; n < 50 && form.has(`tpl.${n}.locale`); n++) {
    const locale = (form.get(`tpl.${n}.locale`) ?? '').trim();
    const title = form.get(`tpl.${n}.title`) ?? '';
    const text = (form.get(`tpl.${n}.text`) ?? '').replace(/\r\n/g, '\n');
    if (form.has(`tpl.${n}.remove`) || (locale === '' && title.trim() === '' && text.trim() === '')) continue;
    if (locale === '') throw invalidArgument(`tpl.${n}.locale`, 'a template needs its locale, e.g. zh-CN');
    if (locale in out) throw invalidArgument(`tpl.${n}.locale`, `${locale} is listed twice`);
    out[locale] = { title, text };
  }
  return out;
}

const sameTemplates = (a: unknown, b: Record<string, Template>): boolean => {
  const x = (a ?? {}) as Record<string, Template>;
  const keys = Object.keys(b);
  return (
    Object.keys(x).length === keys.length &&
    keys.every((k) => x[k] && x[k].title === b[k].title && x[k].text === b[k].text)
  );
};

/**
 * What a settings form asks to change. Fields are named by setting path; only values that
 * differ from those in force become changes, so saving a form leaves untouched settings at
 * their source (a value equal to its base is not made a runtime override). An empty
 * AppSecret field means "keep it". `revert` names a path to put back to its base value;
 * `templates_for` says the form holds a scenario's templates.
 */
export function formToChange(form: URLSearchParams, view: ConfigView): SettingsChange {
  const values: SettingsChange['values'] = {};
  for (const path of SETTING_PATHS) {
    if (path.endsWith('.templates')) continue;
    const raw = form.get(path);
    if (raw === null) continue;
    if (path === 'app_secret') {
      if (raw.trim() !== '') values[path] = raw.trim();
      continue;
    }
    const value = parseField(path, raw);
    if (value !== viewValue(view, path)) values[path] = value;
  }
  const scenario = form.get('templates_for');
  if (scenario !== null) {
    if (!isScenarioName(scenario)) throw invalidArgument('templates_for', 'is not a scenario');
    const path = `scenarios.${scenario}.templates` as const;
    const templates = formTemplates(form);
    if (!sameTemplates(viewValue(view, path), templates)) values[path] = templates;
  }
  const revert = form.getAll('revert').filter(isSettingPath);
  return { values, revert };
}

export const isEmptyChange = (c: SettingsChange): boolean =>
  Object.keys(c.values).length === 0 && c.revert.length === 0;

const TOP_KEYS = { agent_id: 'agentId', app_key: 'appKey' } as const;

/**
 * The view with the form's own scalar values put back (never the AppSecret), for showing a
 * refused form again as the administrator typed it, the field at fault marked. A conflict
 * is shown with the values in force instead: those are what the administrator must see.
 */
export function withEntered(view: ConfigView, form: URLSearchParams): ConfigView {
  const entered: ConfigView = { ...view, scenarios: view.scenarios.map((p) => ({ ...p })) };
  for (const [path, key] of Object.entries(TOP_KEYS)) {
    const raw = form.get(path);
    if (raw !== null) (entered as unknown as Record<string, string>)[key] = raw;
  }
  for (const p of entered.scenarios) {
    for (const [field, key] of Object.entries(POLICY_FIELDS)) {
      const raw = form.get(`scenarios.${p.scenario}.${field}`);
      if (raw !== null) (p as unknown as Record<string, string>)[key] = raw;
    }
  }
  return entered;
}

const POLICY_FIELDS = {
  code_length: 'codeLength',
  ttl_seconds: 'ttlSeconds',
  max_attempts: 'maxAttempts',
  resend_interval_seconds: 'resendIntervalSeconds',
  max_sends_per_hour: 'maxSendsPerHour',
} as const;
