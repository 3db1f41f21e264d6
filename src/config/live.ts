import { conflict, invalidArgument, precondition } from '../domain/errors';
import {
  checkValue,
  isSettingPath,
  mergeSettings,
  settingsProblems,
  type RuntimeSettings,
  type SettingPath,
  type SettingSource,
  type StoredSettings,
  type StoredValue,
} from '../domain/settings';
import type { AuditSink, VerificationStore } from '../verification/ports';
import type { SecretBox } from './secret-box';

/** The settings in force on this replica, with where each comes from. Replaced, never mutated. */
export interface SettingsSnapshot {
  settings: RuntimeSettings;
  sources: Record<SettingPath, SettingSource>;
  /** The stored document's version; 0 while nothing was changed at run time. */
  version: number;
  updatedAt: number;
  updatedBy: string;
}

/** One change: new values by path, and paths put back to their base value. */
export interface SettingsChange {
  values: Partial<Record<SettingPath, unknown>>;
  revert: SettingPath[];
}

export interface LiveSettingsDeps {
  base: RuntimeSettings;
  baseSources: Record<SettingPath, SettingSource>;
  store: Pick<VerificationStore, 'readSettings' | 'writeSettings'>;
  /** Seals the AppSecret for the store; undefined when a shared store has no key to seal it with. */
  box: SecretBox | undefined;
  /** False: settings come from the file and the environment only. */
  runtimeChanges: boolean;
  /** Tries new credentials with DingTalk before they are saved; rejects with DingTalk's refusal. */
  tryCredentials: (appKey: string, appSecret: string, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  pollMs: number;
  audit: AuditSink;
  logger: { warn(o: object, m: string): void; error(o: object, m: string): void };
}

export type LiveSettings = Awaited<ReturnType<typeof createLiveSettings>>;

const CREDENTIALS: readonly SettingPath[] = ['agent_id', 'app_key', 'app_secret'];

/**
 * Configuration as a live, versioned value. Every replica reads the stored overrides every
 * `pollMs` and swaps its snapshot when the version moved, so a change made through any
 * replica is in force on all of them within about one poll. Reading the snapshot is a
 * property access: the hot path pays nothing. A change is validated, its credentials tried
 * with DingTalk, then written by compare-and-set over the version the caller read.
 */
export async function createLiveSettings(deps: LiveSettingsDeps) {
  const { base, baseSources, store, box, now } = deps;
  const listeners: Array<(next: SettingsSnapshot, previous: SettingsSnapshot) => void> = [];

  const open = (sealed: string): string => {
    if (!box) throw new Error('the stored AppSecret is sealed; set CONFIG_ENCRYPTION_KEY to read it');
    return box.open(sealed);
  };
  const snapshotOf = (stored: StoredSettings | undefined): SettingsSnapshot => ({
    ...mergeSettings(base, baseSources, stored, open),
    version: stored?.version ?? 0,
    updatedAt: stored?.updatedAt ?? 0,
    updatedBy: stored?.updatedBy ?? '',
  });

  let current = snapshotOf(deps.runtimeChanges ? await store.readSettings() : undefined);

  const adopt = (next: SettingsSnapshot) => {
    const previous = current;
    current = next;
    for (const listener of listeners) listener(next, previous);
  };

  let failing = false;
  /** Reads the store once and adopts a newer version. Errors keep the settings in force. */
  const poll = async (): Promise<void> => {
    try {
      const stored = await store.readSettings();
      if ((stored?.version ?? 0) !== current.version) adopt(snapshotOf(stored));
      failing = false;
    } catch (e) {
      if (!failing)
        deps.logger.warn(
          { err: (e as Error).message, version: current.version },
          'cannot read the runtime settings; keeping those in force',
        );
      failing = true;
    }
  };
  let polling: Promise<void> | undefined;
  const timer = deps.runtimeChanges
    ? setInterval(() => {
        polling ??= poll().finally(() => (polling = undefined));
      }, deps.pollMs)
    : undefined;
  timer?.unref();

  async function update(
    change: SettingsChange,
    expectedVersion: number,
    by: string,
    signal?: AbortSignal,
  ): Promise<SettingsSnapshot> {
    if (!deps.runtimeChanges)
      throw precondition(
        'runtime changes are turned off (CONFIG_RUNTIME_CHANGES=false): change the file or the environment and restart',
      );
    const paths = Object.keys(change.values);
    for (const p of [...paths, ...change.revert])
      if (!isSettingPath(p))
        throw invalidArgument('update_mask', `${p} is not a setting that can be changed`);
    const both = change.revert.filter((p) => p in change.values);
    if (both.length > 0)
      throw invalidArgument('update_mask', `${both.join(', ')}: both changed and reverted`);
    if (paths.length === 0 && change.revert.length === 0)
      throw invalidArgument('update_mask', 'names no setting to change');

    const stored = await store.readSettings();
    const version = stored?.version ?? 0;
    if (version !== expectedVersion) throw stale(expectedVersion, version);

    const values: Partial<Record<SettingPath, StoredValue>> = { ...stored?.values };
    for (const p of change.revert) delete values[p];
    for (const [p, v] of Object.entries(change.values) as Array<[SettingPath, unknown]>) {
      const checked = checkValue(p, v);
      if (p === 'app_secret') {
        if (!box)
          throw precondition(
            'the AppSecret would be kept in a shared store without encryption: set CONFIG_ENCRYPTION_KEY (32+ random characters, from a Kubernetes Secret) on every replica',
          );
        values[p] = { sealed: box.seal(checked as string) };
      } else values[p] = checked;
    }
    const next: StoredSettings = { version: version + 1, values, updatedAt: now(), updatedBy: by };
    const merged = snapshotOf(next);
    const problem = settingsProblems(merged.settings)[0];
    if (problem) throw invalidArgument(problem.path, problem.problem);

    const s = merged.settings;
    const was = current.settings;
    if (s.appKey !== was.appKey || s.appSecret !== was.appSecret) {
      if (!s.appKey || !s.appSecret) throw precondition('the DingTalk AppKey and AppSecret must both be set');
      await deps.tryCredentials(s.appKey, s.appSecret, signal);
    }
    if (!(await store.writeSettings(version, next))) {
      const now = (await store.readSettings())?.version ?? 0;
      throw stale(expectedVersion, now);
    }
    deps.audit('config.updated', {
      by,
      changed: paths,
      reverted: change.revert,
      credentials: [...paths, ...change.revert].some((p) => CREDENTIALS.includes(p as SettingPath)),
      fromVersion: version,
      toVersion: next.version,
    });
    adopt(merged);
    return merged;
  }

  return {
    /** The settings in force; cheap enough for every call. */
    get current(): SettingsSnapshot {
      return current;
    },
    update,
    /** Reads the store now (a replica catching up at once, tests). */
    poll,
    onChange(listener: (next: SettingsSnapshot, previous: SettingsSnapshot) => void) {
      listeners.push(listener);
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

const stale = (read: number, now: number) =>
  conflict(
    `the configuration changed since version ${read} was read (it is at version ${now}): read it again and reapply the change`,
  );
