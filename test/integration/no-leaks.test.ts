import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { rpcError } from '../helpers/grpc-client';
import { loginAs } from '../helpers/dingtalk-login';
import { latestCode, startGateway } from '../helpers/gateway';

/**
 * Runs every RPC (successes and failures) and then greps everything the gateway
 * logged and returned for codes, the AppSecret, access tokens and mobile numbers.
 */
it('no code, secret, token or mobile number reaches a log line or a response', async () => {
  const gw = await startGateway({
    LOG_LEVEL: 'trace',
    CODE_SECRET: 'hmac-secret-for-the-leak-test',
    AUTH_TOKEN: 'caller-token-0123456789',
  });
  const md = { metadata: { authorization: 'Bearer caller-token-0123456789' } };
  const responses: unknown[] = [];
  const keep = async (p: Promise<unknown>) =>
    responses.push(
      await p.catch((e: { details: string; metadata: unknown }) => ({
        details: e.details,
        metadata: e.metadata,
      })),
    );
  const codes: string[] = [];
  try {
    const sim = gw.app.simulator!;
    await keep(gw.verification.getConfig({}, md));
    await keep(
      gw.verification.sendCode(
        { userId: 'alice', scenario: Scenario.SCENARIO_LOGIN, dingtalkUserId: '', mobile: '', locale: '' },
        md,
      ),
    );
    codes.push(latestCode(gw, 'demo-alice'));
    const sent = responses[responses.length - 1] as { verificationId: string };
    gw.advance(1000); // GetDelivery then reads the send result from DingTalk
    await keep(gw.verification.getDelivery({ verificationId: sent.verificationId }, md));
    await keep(
      gw.verification.verifyCode(
        {
          userId: 'alice',
          scenario: Scenario.SCENARIO_LOGIN,
          code: codes[0] === '000000' ? '111111' : '000000',
        },
        md,
      ),
    );
    await keep(
      gw.verification.verifyCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN, code: codes[0] }, md),
    );
    await keep(
      gw.verification.sendCode(
        {
          userId: 'carol',
          scenario: Scenario.SCENARIO_TWO_FACTOR,
          dingtalkUserId: '',
          mobile: '13800000003',
          locale: 'en-US',
        },
        md,
      ),
    );
    codes.push(latestCode(gw, 'demo-carol'));
    await keep(
      gw.verification.sendCode(
        {
          userId: 'zed',
          scenario: Scenario.SCENARIO_TWO_FACTOR,
          dingtalkUserId: '',
          mobile: '13911112222',
          locale: '',
        },
        md,
      ),
    );
    await keep(
      gw.verification.testScenario(
        { scenario: Scenario.SCENARIO_RISK_WARNING, userId: 'bob', locale: '' },
        md,
      ),
    );
    codes.push(latestCode(gw, 'demo-bob'));
    await keep(
      gw.binding.bindUser({ userId: 'erin', target: { $case: 'mobile', value: '13800000002' } }, md),
    );
    await keep(
      gw.binding.bindUser({ userId: 'erin', target: { $case: 'mobile', value: '13977778888' } }, md),
    );
    await keep(gw.binding.getBinding({ userId: 'erin' }, md));
    await keep(gw.binding.unbindUser({ userId: 'erin' }, md));
    // Binding through DingTalk login: the user access token and the unionId stay inside.
    const login = (await gw.binding.startDingTalkLogin(
      { userId: 'carol', redirectUri: 'http://127.0.0.1:8080/cb' },
      md,
    )) as { authorizeUrl: string; state: string };
    responses.push(login);
    const back = await loginAs(login.authorizeUrl, 'Carol');
    await keep(gw.binding.completeDingTalkLogin({ state: back.state, authCode: back.authCode }, md));
    await keep(gw.binding.completeDingTalkLogin({ state: back.state, authCode: back.authCode }, md));
    const inApp = sim.mintInAppCode('demo-bob');
    await keep(gw.binding.bindUser({ userId: 'bob-app', target: { $case: 'authCode', value: inApp } }, md));
    await keep(gw.binding.bindUser({ userId: 'bob-app', target: { $case: 'authCode', value: inApp } }, md));
    sim.expireTokens();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 60011 }, 1);
    await keep(
      gw.verification.sendCode(
        {
          userId: 'bob',
          scenario: Scenario.SCENARIO_PASSWORD_RESET,
          dingtalkUserId: '',
          mobile: '',
          locale: '',
        },
        md,
      ),
    );
    await rpcError(
      gw.verification.getConfig({}, { metadata: { authorization: 'Bearer wrong-token-abcdefgh' } }),
    );

    const logs = gw.logText();
    const said = JSON.stringify(responses);
    const secrets = [
      ...codes,
      sim.appSecret,
      ...sim.issuedTokens(),
      ...sim.issuedUserTokens(),
      'union-demo-carol',
      'union-demo-bob',
      '13800000003',
      '13911112222',
      '13800000002',
      '13977778888',
      'hmac-secret-for-the-leak-test',
      'caller-token-0123456789',
      'wrong-token-abcdefgh',
    ];
    expect(codes.every((c) => /^\d{6}$/.test(c))).toBe(true);
    expect(sim.issuedTokens().length).toBeGreaterThan(0);
    // The sandbox inbox lines are the simulated DingTalk showing its messages; they are not the gateway's logs.
    const gatewayLines = logs.split('\n').filter((l) => !l.includes('"sandboxInbox"'));
    for (const secret of secrets) {
      // Whole-token matches, so a code is not "found" inside a longer number such as a task id.
      const pattern = new RegExp(
        `(?<![0-9A-Za-z])${secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`,
      );
      expect(gatewayLines.filter((l) => pattern.test(l))).toEqual([]);
      expect(pattern.test(said)).toBe(false);
    }
    expect(logs).toContain('"audit":"code.sent"');
    expect(logs).toContain('"audit":"code.verified"');
    expect(logs).toContain('"audit":"binding.created"');
    expect(logs).toContain('"audit":"scenario.tested"');
  } finally {
    await gw.stop();
  }
});
