import { status } from '@grpc/grpc-js';
import { request as httpRequest } from 'node:http';
import { SCENARIOS } from '../../src/domain/scenario';
import { scenarioToProto } from '../../src/grpc/convert';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * The per-user message budget over every scenario, against a real gateway: the day's budget
 * and the one since the last approved code hold exactly under concurrent sends, a test
 * message counts, an approval starts since-success again, and refusals are counted by kind.
 */
const lifted = {
  CODE_RESEND_INTERVAL_SECONDS: '0',
  CODE_MAX_SENDS_PER_HOUR: '1000',
  METRICS_ADDRESS: '127.0.0.1:0',
};

const scrape = (url: string): Promise<string> =>
  new Promise((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
const sample = (text: string, line: string) =>
  Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

async function sendMany(gw: TestGateway, userId: string, n: number) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      gw.verification
        .sendCode({ userId, scenario: scenarioToProto(SCENARIOS[i % 5]), dingtalkUserId: 'demo-alice' })
        .then(
          () => 'OK',
          (e: { code: number; details: string; metadata: { get(k: string): unknown[] } }) => {
            expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
            expect(Number(e.metadata.get('retry-after')[0])).toBeGreaterThan(86_000);
            return /24 hours/.test(e.details)
              ? 'user_day'
              : /without verifying/.test(e.details)
                ? 'since_success'
                : e.details;
          },
        ),
    ),
  );
}
/** Types the code of the newest message to demo-alice, for the scenario it was sent for. */
async function approveNewest(gw: TestGateway, userId: string): Promise<VerifyResult> {
  const newest = gw.app.simulator!.inbox.filter((m) => m.userid === 'demo-alice').pop()!;
  const sent = gw.logs.find(
    (l) => l.audit === 'code.sent' && newest.text.includes(String(l.verificationId).slice(0, 8)),
  )!;
  const scenario = SCENARIOS.find((s) => s === sent.scenario)!;
  const { result } = await gw.verification.verifyCode({
    userId,
    scenario: scenarioToProto(scenario),
    code: latestCode(gw, 'demo-alice'),
  });
  return result;
}

const tally = (outcomes: string[]) =>
  outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {});

describe('the daily budget (CODE_MAX_SENDS_PER_USER_PER_DAY)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ ...lifted, CODE_MAX_SENDS_SINCE_SUCCESS: '0', LOG_LEVEL: 'warn' });
  });
  afterAll(() => gw.stop());

  it('lets exactly 30 of 60 concurrent sends over the 5 scenarios through, and DingTalk sees 30', async () => {
    const delivered = () => gw.app.simulator!.inbox.filter((m) => m.userid === 'demo-alice').length;
    const before = delivered();
    expect(tally(await sendMany(gw, 'u-day', 60))).toEqual({ OK: 30, user_day: 30 });
    expect(delivered() - before).toBe(30);
    const text = await scrape(gw.app.metricsUrl!);
    expect(sample(text, 'dtg_limit_refusals_total{kind="user_day"}')).toBe(30);
    expect(sample(text, 'dtg_limit_refusals_total{kind="since_success"}')).toBe(0);
  });

  it('is 24 hours long: a day later the user gets codes again', async () => {
    gw.advance(86_400_000);
    try {
      expect(tally(await sendMany(gw, 'u-day', 5))).toEqual({ OK: 5 });
    } finally {
      gw.advance(-86_400_000);
    }
  });
});

describe('the budget since the last approved code (CODE_MAX_SENDS_SINCE_SUCCESS)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      ...lifted,
      CODE_MAX_SENDS_PER_USER_PER_DAY: '12',
      CODE_MAX_SENDS_SINCE_SUCCESS: '5',
    });
  });
  afterAll(() => gw.stop());

  it('holds exactly under concurrent sends, starts again after an approval, and the day caps the total', async () => {
    expect(tally(await sendMany(gw, 'alice', 20))).toEqual({ OK: 5, since_success: 15 });
    // Approving any one of the outstanding codes (the newest message's) resets it.
    expect(await approveNewest(gw, 'alice')).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(tally(await sendMany(gw, 'alice', 20))).toEqual({ OK: 5, since_success: 15 });
    // 10 of the day's 12 are used: two more, then the day's budget refuses.
    expect(await approveNewest(gw, 'alice')).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(tally(await sendMany(gw, 'alice', 20))).toEqual({ OK: 2, user_day: 18 });
  });

  it('counts a test message like a code, and refuses one over the budget', async () => {
    const test = () =>
      gw.verification.testScenario({ userId: 'bob', scenario: Scenario.SCENARIO_RISK_WARNING });
    for (let i = 0; i < 5; i++) await test();
    const err = await rpcError(test());
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/without verifying a code/);
    const sendErr = await rpcError(
      gw.verification.sendCode({ userId: 'bob', scenario: Scenario.SCENARIO_LOGIN }),
    );
    expect(sendErr.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(
      gw.logs.filter((l) => l.audit === 'code.refused' && l.userId === 'bob').map((l) => [l.reason, l.test]),
    ).toEqual([
      ['since_success', true],
      ['since_success', undefined],
    ]);
  });

  it('gives a message back when DingTalk refuses it: a failed send costs no budget', async () => {
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: 60020 }, 3);
    for (let i = 0; i < 3; i++)
      expect(
        (
          await rpcError(
            gw.verification.sendCode({
              userId: 'carol',
              scenario: Scenario.SCENARIO_LOGIN,
              dingtalkUserId: 'demo-alice',
            }),
          )
        ).code,
      ).toBe(status.FAILED_PRECONDITION);
    expect(tally(await sendMany(gw, 'carol', 5))).toEqual({ OK: 5 });
  });
});
