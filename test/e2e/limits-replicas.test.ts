import { status } from '@grpc/grpc-js';
import type { Simulator } from '../../src/dingtalk/simulator';
import { SCENARIOS } from '../../src/domain/scenario';
import { scenarioToProto } from '../../src/grpc/convert';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult, type SendCodeRequest } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { redisAvailability } from '../helpers/redis-server';
import { startReplicas, type Replicas, type Sidecar } from '../helpers/sidecar';

/**
 * Limits that hold across codes, retries and replicas: two sidecar processes on one Redis.
 * One idempotency key sends one message however many replicas it reaches; a user's message
 * budget holds exactly over both, and an approval through either starts since-success again.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the two-replica limit tests: ${why}`);

describeWithRedis('limits across two replicas on one Redis', () => {
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let replicas: Replicas;

  beforeAll(async () => {
    replicas = await startReplicas({
      CODE_RESEND_INTERVAL_SECONDS: '0',
      CODE_MAX_SENDS_PER_HOUR: '1000',
      CODE_MAX_SENDS_PER_USER_PER_DAY: '30',
      CODE_MAX_SENDS_SINCE_SUCCESS: '10',
    });
    ({ sim, a, b } = replicas);
  }, 60_000);

  afterAll(async () => {
    await replicas?.stop();
  });

  const either = (i: number) => (i % 2 === 0 ? a : b);
  const sends = () => sim.calls.asyncsend_v2 ?? 0;
  const delivered = () => sim.inbox.filter((m) => m.userid === 'demo-alice').length;
  const request = (userId: string, key: string, over: Partial<SendCodeRequest> = {}) => ({
    userId,
    scenario: Scenario.SCENARIO_LOGIN,
    dingtalkUserId: 'demo-alice',
    idempotencyKey: key,
    ...over,
  });

  describe('one idempotency key', () => {
    it('sent concurrently to both replicas: one DingTalk message, the same answer everywhere', async () => {
      sim.inject('asyncsend_v2', { type: 'delay', ms: 500 });
      const before = sends();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => either(i).verification.sendCode(request('u-idem', 'k-0001'))),
      );
      expect(sends() - before).toBe(1);
      expect(new Set(answers.map((x) => JSON.stringify(x))).size).toBe(1);

      // A retry after the first finished, through either replica, returns the same id.
      expect((await b.verification.sendCode(request('u-idem', 'k-0001'))).verificationId).toBe(
        answers[0].verificationId,
      );
      expect((await a.verification.sendCode(request('u-idem', 'k-0001'))).verificationId).toBe(
        answers[0].verificationId,
      );
      expect(sends() - before).toBe(1);
    });

    it('with a different request is INVALID_ARGUMENT naming idempotency_key, on the other replica too', async () => {
      await a.verification.sendCode(request('u-other', 'k-0002'));
      const err = await rpcError(
        b.verification.sendCode(request('u-other', 'k-0002', { scenario: Scenario.SCENARIO_TWO_FACTOR })),
      );
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.metadata.get('field')).toEqual(['idempotency_key']);
    });

    it('is released by a first call that failed, so a retry on the other replica sends', async () => {
      sim.inject('asyncsend_v2', { type: 'errcode', errcode: 60020 });
      const before = sends();
      expect((await rpcError(a.verification.sendCode(request('u-fail', 'k-0003')))).code).toBe(
        status.FAILED_PRECONDITION,
      );
      const retried = await b.verification.sendCode(request('u-fail', 'k-0003'));
      expect(sends() - before).toBe(2);
      expect(await a.verification.sendCode(request('u-fail', 'k-0003'))).toEqual(retried);
    });
  });

  describe("a user's message budget", () => {
    /** n concurrent sends over both replicas and the five scenarios → outcome counts. */
    const burst = async (userId: string, n: number) => {
      const outcomes = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          either(i)
            .verification.sendCode({
              userId,
              scenario: scenarioToProto(SCENARIOS[i % 5]),
              dingtalkUserId: 'demo-alice',
            })
            .then(
              (r) => ({ outcome: 'OK', id: r.verificationId, scenario: SCENARIOS[i % 5] }),
              (e: { code: number; details: string }) => ({
                outcome:
                  e.code !== status.RESOURCE_EXHAUSTED
                    ? status[e.code]
                    : /24 hours/.test(e.details)
                      ? 'user_day'
                      : 'since_success',
                id: '',
                scenario: SCENARIOS[i % 5],
              }),
            ),
        ),
      );
      const counts = outcomes.reduce<Record<string, number>>(
        (c, o) => ({ ...c, [o.outcome]: (c[o.outcome] ?? 0) + 1 }),
        {},
      );
      return { counts, sent: outcomes.filter((o) => o.outcome === 'OK') };
    };
    /** Approves one of the codes just sent, through replica B, typing it from the inbox. */
    const approve = async (userId: string, sent: { id: string; scenario: (typeof SCENARIOS)[number] }[]) => {
      const newest = sent.reduce((x, y) => {
        const at = (s: typeof x) => sim.inbox.findIndex((m) => m.text.includes(s.id.slice(0, 8)));
        return at(y) > at(x) ? y : x;
      });
      const message = sim.inbox.find((m) => m.text.includes(newest.id.slice(0, 8)))!;
      const code = /\*\*(\d+)\*\*/.exec(message.text)![1];
      const { result } = await b.verification.verifyCode({
        userId,
        scenario: scenarioToProto(newest.scenario),
        code,
      });
      expect(result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
      // The reset runs in the background after the answer: give it a moment.
      await new Promise((r) => setTimeout(r, 200));
    };

    it('holds 10 since the last success and 30 a day exactly, over 60 concurrent sends per round', async () => {
      const before = delivered();
      let round = await burst('u-budget', 60);
      expect(round.counts).toEqual({ OK: 10, since_success: 50 });
      await approve('u-budget', round.sent);
      round = await burst('u-budget', 60);
      expect(round.counts).toEqual({ OK: 10, since_success: 50 });
      await approve('u-budget', round.sent);
      // The day's 30 are used up with this round: the day's budget, checked first, refuses the rest.
      round = await burst('u-budget', 60);
      expect(round.counts).toEqual({ OK: 10, user_day: 50 });
      await approve('u-budget', round.sent);
      expect((await burst('u-budget', 60)).counts).toEqual({ user_day: 60 });
      expect(delivered() - before).toBe(30);
    }, 30_000);

    it('counts test messages on either replica', async () => {
      await a.binding.bindUser({ userId: 'u-test', target: { $case: 'dingtalkUserId', value: 'demo-bob' } });
      for (let i = 0; i < 10; i++)
        await either(i).verification.testScenario({ userId: 'u-test', scenario: Scenario.SCENARIO_LOGIN });
      const err = await rpcError(
        b.verification.sendCode({ userId: 'u-test', scenario: Scenario.SCENARIO_LOGIN }),
      );
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(err.details).toMatch(/without verifying a code/);
      expect(Number(err.metadata.get('retry-after')[0])).toBeGreaterThan(86_000);
    }, 30_000);
  });
});
