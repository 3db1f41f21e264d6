import { createLiveSettings } from '../../src/config/live';
import { createSecretBox, LOCAL_BOX } from '../../src/config/secret-box';
import { isGatewayFailure } from '../../src/domain/errors';
import { SCENARIOS } from '../../src/domain/scenario';
import {
  checkValue,
  mergeSettings,
  SETTING_PATHS,
  type RuntimeSettings,
  type SettingPath,
  type SettingSource,
} from '../../src/domain/settings';
import { defaultTemplates } from '../../src/domain/template';
import { createMemoryStore } from '../../src/store/memory';

const base: RuntimeSettings = {
  enabled: true,
  agentId: 1,
  appKey: 'key',
  appSecret: 'secret',
  defaultLocale: 'zh-CN',
  scenarios: Object.fromEntries(
    SCENARIOS.map((s) => [
      s,
      {
        scenario: s,
        enabled: true,
        codeLength: 6,
        ttlSeconds: 300,
        maxAttempts: 5,
        resendIntervalSeconds: 60,
        maxSendsPerHour: 10,
        templates: defaultTemplates(s),
      },
    ]),
  ) as RuntimeSettings['scenarios'],
};
const sources = Object.fromEntries(SETTING_PATHS.map((p) => [p, 'default'])) as Record<
  SettingPath,
  SettingSource
>;
const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isGatewayFailure(e)) throw new Error(`expected a failure, got ${String(e)}`);
  return e.detail;
};

describe('settings values', () => {
  it('checks each path with the start-up limits and names it', () => {
    expect(checkValue('scenarios.login.ttl_seconds', 120)).toBe(120);
    expect(() => checkValue('scenarios.login.ttl_seconds', 29)).toThrow(
      'scenarios.login.ttl_seconds: must be an integer from 30 to 86400',
    );
    expect(() => checkValue('enabled', 'yes')).toThrow('enabled: must be true or false');
    expect(checkValue('scenarios.risk_warning.recall', false)).toBe(false);
    expect(() => checkValue('scenarios.login.recall', 1)).toThrow(
      'scenarios.login.recall: must be true or false',
    );
    expect(() => checkValue('agent_id', 1.5)).toThrow('agent_id: must be a positive integer');
    expect(() => checkValue('app_key', 'has space')).toThrow('app_key');
    expect(() =>
      checkValue('scenarios.login.templates', { 'zh-CN': { title: '{code}', text: '{code}' } }),
    ).toThrow('title must not contain {code}');
    expect(() =>
      checkValue('scenarios.login.templates', { 'not a tag': { title: 't', text: '{code}' } }),
    ).toThrow('not a BCP 47 tag');
  });

  it('merges overrides over the base and marks them runtime, leaving the base untouched', () => {
    const merged = mergeSettings(
      base,
      sources,
      {
        version: 3,
        values: {
          enabled: false,
          'scenarios.login.max_attempts': 3,
          app_secret: { sealed: LOCAL_BOX.seal('s2') },
        },
        updatedAt: 1,
        updatedBy: 'x',
      },
      LOCAL_BOX.open,
    );
    expect(merged.settings.enabled).toBe(false);
    expect(merged.settings.appSecret).toBe('s2');
    expect(merged.settings.scenarios.login.maxAttempts).toBe(3);
    expect(merged.settings.scenarios.two_factor.maxAttempts).toBe(5);
    expect(base.scenarios.login.maxAttempts).toBe(5);
    expect(merged.sources['scenarios.login.max_attempts']).toBe('runtime');
    expect(merged.sources['scenarios.two_factor.max_attempts']).toBe('default');
  });
});

describe('the secret box', () => {
  it('seals with a fresh nonce each time and opens only with the same key', () => {
    const box = createSecretBox('k'.repeat(32));
    const a = box.seal('app-secret');
    const b = box.seal('app-secret');
    expect(a).not.toBe(b);
    expect(a).not.toContain('app-secret');
    expect(box.open(a)).toBe('app-secret');
    expect(() => createSecretBox('x'.repeat(32)).open(a)).toThrow('CONFIG_ENCRYPTION_KEY differs');
    const tampered = a.slice(0, -2) + (a.endsWith('A') ? 'B' : 'A') + a.slice(-1);
    expect(() => box.open(tampered)).toThrow();
  });
});

describe('live settings', () => {
  const make = async (over: Partial<Parameters<typeof createLiveSettings>[0]> = {}) => {
    const store = createMemoryStore();
    const tried: string[] = [];
    const events: Array<Record<string, unknown>> = [];
    const live = await createLiveSettings({
      base,
      baseSources: sources,
      store,
      box: LOCAL_BOX,
      runtimeChanges: true,
      tryCredentials: async (key) => {
        tried.push(key);
      },
      now: () => 1000,
      pollMs: 60_000,
      audit: (_e, f) => events.push(f),
      logger: { warn: () => undefined, error: () => undefined },
      ...over,
    });
    return { live, store, tried, events };
  };

  it('applies a change, tries new credentials first, and audits who changed what', async () => {
    const { live, tried, events } = await make();
    const seen: number[] = [];
    live.onChange((next) => seen.push(next.version));
    await live.update(
      { values: { app_key: 'key2', 'scenarios.login.enabled': false }, revert: [] },
      0,
      'admin-token',
    );
    expect(tried).toEqual(['key2']);
    expect(live.current.settings.appKey).toBe('key2');
    expect(live.current.settings.scenarios.login.enabled).toBe(false);
    expect(seen).toEqual([1]);
    expect(events[0]).toMatchObject({ by: 'admin-token', credentials: true, fromVersion: 0, toVersion: 1 });
    await live.update({ values: {}, revert: ['app_key'] }, 1, 'admin-token');
    expect(live.current.settings.appKey).toBe('key');
    expect(live.current.sources.app_key).toBe('default');
    live.close();
  });

  it('saves nothing when DingTalk refuses the credentials', async () => {
    const refusal = new Error('refused');
    const { live, store } = await make({ tryCredentials: () => Promise.reject(refusal) });
    await expect(live.update({ values: { app_secret: 'nope' }, revert: [] }, 0, 'a')).rejects.toBe(refusal);
    expect(await store.readSettings()).toBeUndefined();
    expect(live.current.settings.appSecret).toBe('secret');
  });

  it('refuses a stale version with a conflict and a secret without a box', async () => {
    const { live } = await make({ box: undefined });
    expect((await failure(live.update({ values: { enabled: false }, revert: [] }, 4, 'a'))).kind).toBe(
      'conflict',
    );
    const noBox = await failure(live.update({ values: { app_secret: 'x' }, revert: [] }, 0, 'a'));
    expect(noBox).toMatchObject({
      kind: 'precondition',
      message: expect.stringContaining('CONFIG_ENCRYPTION_KEY'),
    });
  });

  it('adopts what another replica stored at the next poll', async () => {
    const { live, store } = await make();
    await store.writeSettings(0, {
      version: 1,
      values: { enabled: false },
      updatedAt: 5,
      updatedBy: 'console',
    });
    expect(live.current.settings.enabled).toBe(true);
    await live.poll();
    expect(live.current.settings.enabled).toBe(false);
    expect(live.current.updatedBy).toBe('console');
  });

  it('refuses a template set that leaves out the default locale', async () => {
    const { live } = await make();
    const err = await failure(
      live.update(
        {
          values: { 'scenarios.login.templates': { 'en-US': { title: 'Code', text: '{code}' } } },
          revert: [],
        },
        0,
        'a',
      ),
    );
    expect(err).toMatchObject({
      kind: 'invalid_argument',
      message: expect.stringContaining('default locale zh-CN'),
    });
  });
});
