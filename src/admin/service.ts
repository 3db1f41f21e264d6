import type { SettingsChange, LiveSettings, SettingsSnapshot } from '../config/live';
import type { ScenarioPolicy } from '../domain/policy';
import { SCENARIOS } from '../domain/scenario';
import type { SettingPath, SettingSource } from '../domain/settings';
import type { Activity, ScenarioActivity } from './activity';

/** The configuration as an administrator sees it: effective values, never a secret. */
export interface ConfigView {
  enabled: boolean;
  mode: 'live' | 'sandbox';
  agentId: number;
  appKey: string;
  appSecretSet: boolean;
  storeKind: string;
  apiUrl: string;
  oapiUrl: string;
  defaultLocale: string;
  scenarios: ScenarioPolicy[];
  version: number;
  sources: Record<SettingPath, SettingSource>;
  runtimeChanges: boolean;
  /** 0 while nothing was changed at run time. */
  updatedAt: number;
  updatedBy: string;
}

export interface Overview {
  mode: 'live' | 'sandbox';
  storeKind: string;
  storeUp: boolean;
  /** closed: DingTalk is called; open: calls fail fast after repeated outages; half_open: one trial call. */
  dingtalkCircuit: string;
  /** This replica's last hour, per scenario. */
  activity: ScenarioActivity[];
}

export interface AdminServiceDeps {
  live: LiveSettings;
  facts: {
    mode: 'live' | 'sandbox';
    storeKind: string;
    apiUrl: string;
    oapiUrl: string;
    runtimeChanges: boolean;
  };
  storeUp: () => boolean;
  circuitState: () => string;
  activity: Activity;
}

export type AdminService = ReturnType<typeof createAdminService>;

/**
 * What the administrator's page does, once, for both ways in: the gRPC handlers
 * (GetConfig, UpdateConfig) and the admin console call these, never each other.
 */
export function createAdminService(deps: AdminServiceDeps) {
  const { live, facts } = deps;
  const viewOf = (s: SettingsSnapshot): ConfigView => ({
    enabled: s.settings.enabled,
    mode: facts.mode,
    agentId: s.settings.agentId,
    appKey: s.settings.appKey,
    appSecretSet: s.settings.appSecret !== '',
    storeKind: facts.storeKind,
    apiUrl: facts.apiUrl,
    oapiUrl: facts.oapiUrl,
    defaultLocale: s.settings.defaultLocale,
    scenarios: SCENARIOS.map((name) => s.settings.scenarios[name]),
    version: s.version,
    sources: s.sources,
    runtimeChanges: facts.runtimeChanges,
    updatedAt: s.updatedAt,
    updatedBy: s.updatedBy,
  });

  return {
    view: (): ConfigView => viewOf(live.current),
    /** `by` names the credential that asks ("admin-token", "console"), for the audit line. */
    update: async (
      change: SettingsChange,
      version: number,
      by: string,
      signal?: AbortSignal,
    ): Promise<ConfigView> => viewOf(await live.update(change, version, by, signal)),
    overview: (): Overview => ({
      mode: facts.mode,
      storeKind: facts.storeKind,
      storeUp: deps.storeUp(),
      dingtalkCircuit: deps.circuitState(),
      activity: deps.activity.summary(),
    }),
  };
}
