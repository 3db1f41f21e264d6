import { status } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { DeliveryStatus, GatewayMode, VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { latestCode, simulatorEnv, startGateway, type TestGateway } from '../helpers/gateway';

describe('in the sandbox', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(() => gw.stop());

  it('GetConfig reports the effective configuration without secrets', async () => {
    const c = await gw.verification.getConfig({});
    expect(c).toMatchObject({
      enabled: true,
      mode: GatewayMode.GATEWAY_MODE_SANDBOX,
      appSecretSet: true,
      storeKind: 'memory',
      defaultLocale: 'zh-CN',
    });
    expect(c.agentId).toBeGreaterThan(0);
    expect(c.scenarios.map((s) => s.scenario)).toEqual([1, 2, 3, 4, 5]);
    expect(c.scenarios[0]).toMatchObject({
      enabled: true,
      codeLength: 6,
      ttlSeconds: 300,
      maxAttempts: 5,
      resendIntervalSeconds: 60,
      maxSendsPerHour: 10,
    });
    expect(c.scenarios[0].templates.map((t) => t.locale).sort()).toEqual(['en-US', 'zh-CN']);
    expect(JSON.stringify(c)).not.toContain(gw.app.simulator!.appSecret);
  });

  it('TestScenario sends a marked test message that cannot verify', async () => {
    const res = await gw.verification.testScenario({
      scenario: Scenario.SCENARIO_PASSWORD_RECOVERY,
      userId: 'alice',
      locale: 'en-US',
    });
    expect(res).toMatchObject({
      dingtalkUserId: 'demo-alice',
      deliveryStatus: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      dingtalkCode: 0,
    });
    const message = gw.app.simulator!.inbox.at(-1)!;
    expect(message.title).toBe('[TEST] Password recovery code');
    expect(message.text).toContain('cannot be used to verify');
    const code = latestCode(gw, 'demo-alice');
    const v = await gw.verification.verifyCode({
      userId: 'alice',
      scenario: Scenario.SCENARIO_PASSWORD_RECOVERY,
      code,
    });
    expect(v.result).toBe(VerifyResult.VERIFY_RESULT_NOT_FOUND);
  });

  it('TestScenario for an unbound user fails saying the user is not bound', async () => {
    const err = await rpcError(
      gw.verification.testScenario({ scenario: Scenario.SCENARIO_LOGIN, userId: 'carol', locale: '' }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('user carol is not bound to a DingTalk account, so the code could not be sent');
  });

  it('TestScenario reports a send DingTalk accepted but silently dropped', async () => {
    await gw.app.store.putBinding({
      userId: 'outsider',
      dingtalkUserId: 'demo-outsider',
      source: 'dingtalk_user_id',
      boundAt: Date.now(),
    });
    const res = await gw.verification.testScenario({
      scenario: Scenario.SCENARIO_LOGIN,
      userId: 'outsider',
      locale: '',
    });
    expect(res.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_DROPPED);
    expect(res.detail).toMatch(/accepted but dropped/);
  });

  it('TestScenario validates its input', async () => {
    expect(
      (await rpcError(gw.verification.testScenario({ scenario: 0, userId: 'alice', locale: '' }))).details,
    ).toMatch(/^scenario: /);
    expect(
      (await rpcError(gw.verification.testScenario({ scenario: 1, userId: '', locale: '' }))).details,
    ).toMatch(/^user_id: /);
  });
});

describe('live mode against a DingTalk on loopback', () => {
  let sim: Simulator;
  let gw: TestGateway;
  beforeAll(async () => {
    sim = await startSimulator({ dailyCapPerUser: 2 });
    gw = await startGateway(
      {
        ...simulatorEnv(sim),
        CODE_RESEND_INTERVAL_SECONDS: '0',
        CONFIG_FILE: '/gw.yaml',
      },
      { '/gw.yaml': 'scenarios:\n  risk_warning:\n    enabled: false\n' },
    );
    await gw.binding.bindUser({ userId: 'dora', target: { $case: 'mobile', value: '13800000001' } });
  });
  afterAll(async () => {
    await gw.stop();
    await sim.close();
  });

  it('runs live with the configured credentials', async () => {
    const c = await gw.verification.getConfig({});
    expect(c).toMatchObject({
      mode: GatewayMode.GATEWAY_MODE_LIVE,
      appKey: sim.appKey,
      apiUrl: sim.url,
      appSecretSet: true,
    });
    expect(gw.app.simulator).toBeUndefined();
  });

  it('reports the daily cap as a silent drop in TestScenario', async () => {
    const first = await gw.verification.testScenario({
      scenario: Scenario.SCENARIO_LOGIN,
      userId: 'dora',
      locale: '',
    });
    expect(first.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    await gw.verification.testScenario({ scenario: Scenario.SCENARIO_LOGIN, userId: 'dora', locale: '' });
    const third = await gw.verification.testScenario({
      scenario: Scenario.SCENARIO_LOGIN,
      userId: 'dora',
      locale: '',
    });
    expect(third).toMatchObject({
      deliveryStatus: DeliveryStatus.DELIVERY_STATUS_DROPPED,
      dingtalkCode: 143105,
    });
    expect(third.detail).toContain('daily limit');
  });

  it('a disabled scenario refuses to send but still verifies', async () => {
    const err = await rpcError(
      gw.verification.sendCode({
        userId: 'dora',
        scenario: Scenario.SCENARIO_RISK_WARNING,
        dingtalkUserId: '',
        mobile: '',
        locale: '',
      }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('scenario risk_warning is disabled');
    const v = await gw.verification.verifyCode({
      userId: 'dora',
      scenario: Scenario.SCENARIO_RISK_WARNING,
      code: '123456',
    });
    expect(v.result).toBe(VerifyResult.VERIFY_RESULT_NOT_FOUND);
  });

  it('bad credentials are a configuration error naming the cause', async () => {
    const bad = await startGateway({
      DINGTALK_AGENT_ID: String(sim.agentId),
      DINGTALK_APP_KEY: sim.appKey,
      DINGTALK_APP_SECRET: 'wrong-secret',
      DINGTALK_API_URL: sim.url,
      DINGTALK_OAPI_URL: sim.url,
    });
    try {
      const err = await rpcError(
        bad.verification.sendCode({
          userId: 'x',
          scenario: Scenario.SCENARIO_LOGIN,
          dingtalkUserId: 'demo-alice',
          mobile: '',
          locale: '',
        }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).not.toContain('wrong-secret');
    } finally {
      await bad.stop();
    }
  });
});

describe('gateway disabled', () => {
  it('refuses SendCode and TestScenario with FAILED_PRECONDITION', async () => {
    const gw = await startGateway({ GATEWAY_ENABLED: 'false' });
    try {
      const err = await rpcError(
        gw.verification.sendCode({
          userId: 'alice',
          scenario: Scenario.SCENARIO_LOGIN,
          dingtalkUserId: '',
          mobile: '',
          locale: '',
        }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toBe('the DingTalk gateway is disabled');
      expect((await gw.verification.getConfig({})).enabled).toBe(false);
    } finally {
      await gw.stop();
    }
  });
});
