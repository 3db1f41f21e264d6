import type { ConfigView } from '../admin/service';
import type { SettingsChange } from '../config/live';
import { invalidArgument } from '../domain/errors';
import type { Template } from '../domain/policy';
import {
  isSettingPath,
  POLICY_KEYS,
  type SettingPath,
  type SettingSource as Source,
} from '../domain/settings';
import {
  GatewayMode,
  SettingSource,
  type GetConfigResponse,
  type ScenarioConfig,
  type UpdateConfigRequest,
} from '../gen/dingtalk/gateway/v1/verification';
import { scenarioFromProto, scenarioToProto } from './convert';

/** The configuration and UpdateConfig between proto and domain; nothing else. */

const SOURCE: Record<Source, SettingSource> = {
  default: SettingSource.SETTING_SOURCE_DEFAULT,
  file: SettingSource.SETTING_SOURCE_FILE,
  environment: SettingSource.SETTING_SOURCE_ENVIRONMENT,
  runtime: SettingSource.SETTING_SOURCE_RUNTIME,
};

const templatesToProto = (templates: Record<string, Template>) =>
  Object.entries(templates).map(([locale, t]) => ({ locale, title: t.title, text: t.text }));

export function configToProto(v: ConfigView): GetConfigResponse {
  return {
    enabled: v.enabled,
    mode: v.mode === 'live' ? GatewayMode.GATEWAY_MODE_LIVE : GatewayMode.GATEWAY_MODE_SANDBOX,
    agentId: v.agentId,
    appKey: v.appKey,
    appSecretSet: v.appSecretSet,
    storeKind: v.storeKind,
    apiUrl: v.apiUrl,
    oapiUrl: v.oapiUrl,
    defaultLocale: v.defaultLocale,
    scenarios: v.scenarios.map((p) => ({
      scenario: scenarioToProto(p.scenario),
      enabled: p.enabled,
      codeLength: p.codeLength,
      ttlSeconds: p.ttlSeconds,
      maxAttempts: p.maxAttempts,
      resendIntervalSeconds: p.resendIntervalSeconds,
      maxSendsPerHour: p.maxSendsPerHour,
      templates: templatesToProto(p.templates),
      recall: p.recall,
    })),
    version: v.version,
    sources: Object.fromEntries(Object.entries(v.sources).map(([path, s]) => [path, SOURCE[s]])),
    runtimeChanges: v.runtimeChanges,
    updatedAt: v.updatedAt > 0 ? new Date(v.updatedAt) : undefined,
    updatedBy: v.updatedBy,
  };
}

/** A scenario field's name in ScenarioConfig: the same as in the domain's ScenarioPolicy. */
const SCENARIO_FIELD: Record<string, keyof ScenarioConfig> = POLICY_KEYS;

/**
 * Reads the values update_mask names out of `settings`: a path names a setting, and a
 * scenario's fields come from the `settings.scenarios` entry that names that scenario.
 */
export function settingsChangeFromProto(req: UpdateConfigRequest): SettingsChange {
  const paths = (mask: string[] | undefined, field: string): SettingPath[] =>
    (mask ?? []).map((p) => {
      if (!isSettingPath(p)) throw invalidArgument(field, `${p} is not a setting that can be changed`);
      return p;
    });
  const s = req.settings;
  const scenarios = new Map<string, ScenarioConfig>();
  for (const c of s?.scenarios ?? []) {
    const name = scenarioFromProto(c.scenario);
    if (scenarios.has(name)) throw invalidArgument('settings.scenarios', `names ${name} twice`);
    scenarios.set(name, c);
  }
  const values: Partial<Record<SettingPath, unknown>> = {};
  for (const path of paths(req.updateMask, 'update_mask')) {
    if (path === 'enabled') values[path] = s?.enabled ?? false;
    else if (path === 'agent_id') values[path] = s?.agentId ?? 0;
    else if (path === 'app_key') values[path] = s?.appKey ?? '';
    else if (path === 'app_secret') values[path] = s?.appSecret ?? '';
    else {
      const [, name, field] = path.split('.');
      const entry = scenarios.get(name);
      if (!entry)
        throw invalidArgument(
          'settings.scenarios',
          `update_mask names ${path}, but there is no entry for ${name}`,
        );
      const value = entry[SCENARIO_FIELD[field]];
      values[path] =
        field === 'templates'
          ? Object.fromEntries(entry.templates.map((t) => [t.locale, { title: t.title, text: t.text }]))
          : value;
    }
  }
  return { values, revert: paths(req.revertMask, 'revert_mask') };
}
