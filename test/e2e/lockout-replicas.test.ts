import { status } from '@grpc/grpc-js';
import type { Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult, type VerifyCodeResponse } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { redisAvailability } from '../helpers/redis-server';
import { startReplicas, type Replicas, type Sidecar } from '../helpers/sidecar';

/**
 * Failed verifications counted across codes by two sidecar processes on one Redis: wrong
 * guesses spread over both and over successive codes lock the user in the scenario at
 * exactly CODE_MAX_FAILURES, for both; an approval before that starts the count over.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the two-replica lockout tests: ${why}`);

const MAX_FAILURES = 95;

describeWithRedis('failures across codes, two replicas on one Redis', () => {
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let replicas: Replicas;

  beforeAll(async () => {
    replicas = await startReplicas({
      CODE_RESEND_INTERVAL_SECONDS: '0',
      CODE_MAX_SENDS_PER_HOUR: '1000',
      CODE_MAX_SENDS_PER_USER_PER_DAY: '500',
      CODE_MAX_SENDS_SINCE_SUCCESS: '0',
      CODE_MAX_ATTEMPTS: '10',
      CODE_MAX_FAILURES: String(MAX_FAILURES),
    });
    ({ sim, a, b } = replicas);
  }, 60_000);

  afterAll(async () => {
    await replicas?.stop();
  });

  const either = (i: number) => (i % 2 === 0 ? a : b);
  const send = (via: Sidecar, userId: string) =>
    via.verification.sendCode({
      userId,
      scenario: Scenario.SCENARIO_LOGIN,
      dingtalkUserId: 'demo-alice',
      mobile: '',
      locale: '',
    });
  const verify = (via: Sidecar, userId: string, code: string) =>
    via.verification.verifyCode({ userId, scenario: Scenario.SCENARIO_LOGIN, code });
  const codeOf = (verificationId: string) => {
    const m = sim.inbox.find((x) => x.text.includes(verificationId.slice(0, 8)));
    return /\*\*(\d+)\*\*/.exec(m!.text)![1];
  };
  const wrongGuesses = (code: string, n: number) =>
    Array.from({ length: n }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
  /** Sends a code through one replica, then fires `n` wrong guesses at once over both. */
  async function guessWrong(userId: string, k: number, n = 10) {
    const code = codeOf((await send(either(k), userId)).verificationId);
    const results = await Promise.all(wrongGuesses(code, n).map((g, i) => verify(either(i), userId, g)));
    return { code, results };
  }
  const count = (results: VerifyCodeResponse[], result: VerifyResult) =>
    results.filter((r) => r.result === result).length;

  it('100 simultaneous wrong guesses over 10 successive codes lock at exactly CODE_MAX_FAILURES', async () => {
    const all: VerifyCodeResponse[] = [];
    let last = '';
    for (let k = 0; k < 10; k++) {
      const { code, results } = await guessWrong('u-lock', k);
      all.push(...results);
      last = code;
    }
    // Every guess before the limit was compared; the 95th failure locked; the other five were refused.
    expect(count(all, VerifyResult.VERIFY_RESULT_WRONG_CODE)).toBe(MAX_FAILURES - 1);
    const locked = all.filter((r) => r.result === VerifyResult.VERIFY_RESULT_LOCKED);
    expect(locked).toHaveLength(100 - (MAX_FAILURES - 1));
    const until = locked[0].lockedUntil!.getTime();
    for (const r of locked) expect(r.lockedUntil!.getTime()).toBe(until);
    expect(until - Date.now()).toBeGreaterThan(890_000);
    expect(until - Date.now()).toBeLessThanOrEqual(900_000);

    // The right code of the last send is refused on both replicas; so is a new send.
    for (const via of [a, b]) {
      expect(await verify(via, 'u-lock', last)).toMatchObject({
        result: VerifyResult.VERIFY_RESULT_LOCKED,
        lockedUntil: new Date(until),
      });
      const err = await rpcError(send(via, 'u-lock'));
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(Number(err.metadata.get('retry-after')[0])).toBeGreaterThan(890);
    }
    const lockLines = (a.output() + b.output())
      .split('\n')
      .filter((l) => l.includes('"audit":"code.locked"'));
    expect(lockLines).toHaveLength(1);
    expect(lockLines[0]).not.toContain(last);
  }, 30_000);

  it('an approval before the limit starts the count over, on either replica', async () => {
    let wrong = 0;
    for (let k = 0; k < 9; k++)
      wrong += count((await guessWrong('u-reset', k)).results, VerifyResult.VERIFY_RESULT_WRONG_CODE);
    expect(wrong).toBe(90);
    const sent = await send(a, 'u-reset');
    expect((await verify(b, 'u-reset', codeOf(sent.verificationId))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    // 90 more wrong guesses: without the approval the 95th failure in all would have locked.
    for (let k = 0; k < 9; k++) {
      const { results } = await guessWrong('u-reset', k);
      expect(count(results, VerifyResult.VERIFY_RESULT_WRONG_CODE)).toBe(10);
    }
  }, 30_000);
});
