import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { SettingSource, type UpdateConfigRequest } from '../../src/gen/dingtalk/gateway/v1/verification';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';

const ADMIN = 'admin-token-0123456789abcdef';
const CALLER = 'caller-token-0123456789abcdef';
const asAdmin = { metadata: { authorization: `Bearer ${ADMIN}` } };
const asCaller = { metadata: { authorization: `Bearer ${CALLER}` } };

const disableLogin = (version: number): Partial<UpdateConfigRequest> => ({
  version,
  updateMask: ['scenarios.login.enabled'],
  settings: {
    enabled: false,
    agentId: 0,
    appKey: '',
    appSecret: '',
    scenarios: [
      {
        scenario: Scenario.SCENARIO_LOGIN,
        enabled: false,
        codeLength: 0,
        ttlSeconds: 0,
        maxAttempts: 0,
        resendIntervalSeconds: 0,
        maxSendsPerHour: 0,
        templates: [],
        recall: false,
      },
    ],
  },
});

describe('UpdateConfig', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway(
      { AUTH_TOKEN: CALLER, ADMIN_TOKEN: ADMIN, CODE_TTL_SECONDS: '120', CONFIG_FILE: '/cfg.yaml' },
      { '/cfg.yaml': 'scenarios:\n  risk_warning:\n    max_attempts: 3\n' },
    );
  });
  afterAll(() => gw.stop());

  const config = () => gw.verification.getConfig({}, asCaller);

  it('reports version 0 and where every setting comes from before anything changed', async () => {
    const c = await config();
    expect(c.version).toBe(0);
    expect(c.runtimeChanges).toBe(true);
    expect(c.sources['enabled']).toBe(SettingSource.SETTING_SOURCE_DEFAULT);
    expect(c.sources['app_secret']).toBe(SettingSource.SETTING_SOURCE_DEFAULT); // the sandbox's simulator
    expect(c.sources['scenarios.login.ttl_seconds']).toBe(SettingSource.SETTING_SOURCE_ENVIRONMENT);
    expect(c.sources['scenarios.risk_warning.max_attempts']).toBe(SettingSource.SETTING_SOURCE_FILE);
    expect(c.sources['scenarios.login.max_attempts']).toBe(SettingSource.SETTING_SOURCE_DEFAULT);
    expect(c.updatedAt).toBeUndefined();
  });

  it('refuses the caller token with PERMISSION_DENIED, and no token with UNAUTHENTICATED', async () => {
    const denied = await rpcError(gw.verification.updateConfig(disableLogin(0), asCaller));
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toContain('administrator');
    const anonymous = await rpcError(gw.verification.updateConfig(disableLogin(0)));
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    // A principal header from the client is not believed.
    const forged = await rpcError(
      gw.verification.updateConfig(disableLogin(0), {
        metadata: { authorization: `Bearer ${CALLER}`, 'x-dingtalk-gateway-principal': 'admin-token' },
      }),
    );
    expect(forged.code).toBe(status.PERMISSION_DENIED);
    expect((await config()).version).toBe(0);
  });

  it('switches a scenario off for SendCode at once, and reverts it to its base', async () => {
    const before = await config();
    const res = await gw.verification.updateConfig(disableLogin(before.version), asAdmin);
    expect(res.config!.version).toBe(before.version + 1);
    expect(res.config!.scenarios.find((s) => s.scenario === Scenario.SCENARIO_LOGIN)!.enabled).toBe(false);
    expect(res.config!.sources['scenarios.login.enabled']).toBe(SettingSource.SETTING_SOURCE_RUNTIME);
    expect(res.config!.updatedBy).toBe('admin-token');

    const refused = await rpcError(
      gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN }, asCaller),
    );
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toBe('scenario login is disabled');

    const reverted = await gw.verification.updateConfig(
      { version: res.config!.version, revertMask: ['scenarios.login.enabled'] },
      asAdmin,
    );
    expect(reverted.config!.sources['scenarios.login.enabled']).toBe(SettingSource.SETTING_SOURCE_DEFAULT);
    const sent = await gw.verification.sendCode(
      { userId: 'alice', scenario: Scenario.SCENARIO_LOGIN },
      asCaller,
    );
    expect(sent.verificationId).toHaveLength(22);

    const audit = gw.logs.filter((l) => l.audit === 'config.updated');
    expect(audit.at(-2)).toMatchObject({
      by: 'admin-token',
      changed: ['scenarios.login.enabled'],
      fromVersion: before.version,
      toVersion: before.version + 1,
    });
  });

  it('answers ABORTED to a change based on a stale version, and changes nothing', async () => {
    const c = await config();
    const stale = await rpcError(gw.verification.updateConfig(disableLogin(c.version - 1), asAdmin));
    expect(stale.code).toBe(status.ABORTED);
    expect(stale.details).toContain(`it is at version ${c.version}`);
    expect((await config()).version).toBe(c.version);
    // The refusal's log line names the status (a field named `code` would be redacted).
    expect(gw.logs.filter((l) => l.msg === 'rpc refused').at(-1)).toMatchObject({
      method: 'dingtalk.gateway.v1.VerificationService/UpdateConfig',
      status: 'ABORTED',
    });
  });

  it("tries a new AppSecret first: DingTalk refuses it, nothing is saved, and the reason is DingTalk's", async () => {
    const c = await config();
    const secret = 'a-wrong-secret-value-1234';
    const err = await rpcError(
      gw.verification.updateConfig(
        { version: c.version, updateMask: ['app_secret'], settings: { appSecret: secret } as never },
        asAdmin,
      ),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/AppKey|AppSecret|credentials/i);
    expect(err.details).toContain('invalidClientIdOrSecret');
    expect((await config()).version).toBe(c.version);
    expect(gw.logText()).not.toContain(secret);
    expect(JSON.stringify(await config())).not.toContain(secret);
  });

  it('saves a right AppSecret, drops the cached token, and never returns the secret', async () => {
    const c = await config();
    const fetches = gw.app.dingtalk.stats().tokenFetches;
    const tokenCalls = gw.app.dingtalk.stats().calls.token?.['0'] ?? 0;
    // The administrator reset the secret on the open platform: the old one fetches no token now.
    const secret = 'rotated-app-secret-0123456789';
    gw.app.simulator!.rotateAppSecret(secret);
    const res = await gw.verification.updateConfig(
      { version: c.version, updateMask: ['app_secret'], settings: { appSecret: secret } as never },
      asAdmin,
    );
    expect(res.config!.appSecretSet).toBe(true);
    expect(res.config!.sources['app_secret']).toBe(SettingSource.SETTING_SOURCE_RUNTIME);
    expect(JSON.stringify(res)).not.toContain(secret);
    await gw.verification.sendCode({ userId: 'bob', scenario: Scenario.SCENARIO_TWO_FACTOR }, asCaller);
    // One token fetch to try the secret, then one because the cached token was dropped.
    expect(gw.app.dingtalk.stats().calls.token?.['0']).toBe(tokenCalls + 2);
    expect(gw.app.dingtalk.stats().tokenFetches).toBe(fetches + 1);
    expect(gw.logText()).not.toContain(secret);
  });

  it('names the setting that is wrong', async () => {
    const c = await config();
    const cases: Array<[Partial<UpdateConfigRequest>, string]> = [
      [{ version: c.version, updateMask: ['scenarios.login.nope'] }, 'scenarios.login.nope'],
      [{ version: c.version, updateMask: ['scenarios.login.ttl_seconds'] }, 'no entry for login'],
      [
        {
          version: c.version,
          updateMask: ['scenarios.login.ttl_seconds'],
          settings: {
            ...disableLogin(0).settings!,
            scenarios: [{ ...disableLogin(0).settings!.scenarios[0], ttlSeconds: 5 }],
          },
        },
        'scenarios.login.ttl_seconds: must be an integer from 30 to 86400',
      ],
      [{ version: c.version, updateMask: ['agent_id'], settings: { agentId: -1 } as never }, 'agent_id'],
      [{ version: c.version }, 'names no setting'],
      [{ version: c.version, updateMask: ['enabled'], revertMask: ['enabled'] }, 'both changed and reverted'],
    ];
    for (const [req, message] of cases) {
      const err = await rpcError(gw.verification.updateConfig(req, asAdmin));
      expect({ code: err.code, details: err.details }).toEqual({
        code: status.INVALID_ARGUMENT,
        details: expect.stringContaining(message),
      });
    }
    expect((await config()).version).toBe(c.version);
  });

  it('replaces a scenario template, checking its placeholders', async () => {
    const c = await config();
    const template = (text: string) => ({
      version: c.version,
      updateMask: ['scenarios.two_factor.templates'],
      settings: {
        ...disableLogin(0).settings!,
        scenarios: [
          {
            ...disableLogin(0).settings!.scenarios[0],
            scenario: Scenario.SCENARIO_TWO_FACTOR,
            templates: [{ locale: 'zh-CN', title: '验证码', text }],
          },
        ],
      },
    });
    const bad = await rpcError(gw.verification.updateConfig(template('没有占位符'), asAdmin));
    expect(bad.details).toContain('{code}');
    await gw.verification.updateConfig(template('新模板：**{code}**'), asAdmin);
    await gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_TWO_FACTOR }, asCaller);
    expect(gw.app.simulator!.inbox.at(-1)!.text).toMatch(/^新模板：\*\*\d{6}\*\*/);
  });
});

describe('UpdateConfig without an administrator credential', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ADMIN_ADDRESS: 'off' });
  });
  afterAll(() => gw.stop());

  it('is refused, even with a forged principal header', async () => {
    const err = await rpcError(
      gw.verification.updateConfig(disableLogin(0), {
        metadata: { 'x-dingtalk-gateway-principal': 'admin-token' },
      }),
    );
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.details).toContain('ADMIN_TOKEN');
  });
});

describe('UpdateConfig with runtime changes turned off', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ADMIN_TOKEN: ADMIN, CONFIG_RUNTIME_CHANGES: 'false' });
  });
  afterAll(() => gw.stop());

  it('keeps the file and the environment the only truth', async () => {
    expect((await gw.verification.getConfig({})).runtimeChanges).toBe(false);
    const err = await rpcError(gw.verification.updateConfig(disableLogin(0), asAdmin));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('CONFIG_RUNTIME_CHANGES');
  });
});
