import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

const send = (userId: string) =>
  gw.verification.sendCode({
    userId,
    scenario: Scenario.SCENARIO_TWO_FACTOR,
    dingtalkUserId: 'demo-bob',
    mobile: '',
    locale: '',
  });
const verify = (userId: string, code: string) =>
  gw.verification.verifyCode({ userId, scenario: Scenario.SCENARIO_TWO_FACTOR, code });
const tally = (results: { result: VerifyResult }[]) =>
  results.reduce<Record<string, number>>(
    (acc, r) => ({ ...acc, [VerifyResult[r.result]]: (acc[VerifyResult[r.result]] ?? 0) + 1 }),
    {},
  );

describe('under concurrency', () => {
  it('200 concurrent wrong guesses compare exactly max_attempts times, then the code is locked', async () => {
    await send('brute');
    const code = latestCode(gw, 'demo-bob');
    const guesses = Array.from({ length: 200 }, (_, i) =>
      String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'),
    );
    const results = await Promise.all(guesses.map((g) => verify('brute', g)));
    expect(tally(results)).toEqual({ VERIFY_RESULT_WRONG_CODE: 5, VERIFY_RESULT_TOO_MANY_ATTEMPTS: 195 });
    expect(
      results
        .filter((r) => r.result === VerifyResult.VERIFY_RESULT_WRONG_CODE)
        .map((r) => r.attemptsRemaining)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    expect((await verify('brute', code)).result).toBe(VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS);
  });

  it('of 50 concurrent correct submissions exactly one is approved', async () => {
    await send('double');
    const code = latestCode(gw, 'demo-bob');
    const results = await Promise.all(Array.from({ length: 50 }, () => verify('double', code)));
    expect(results.filter((r) => r.result === VerifyResult.VERIFY_RESULT_APPROVED)).toHaveLength(1);
    expect(results.filter((r) => r.result === VerifyResult.VERIFY_RESULT_WRONG_CODE)).toHaveLength(0);
  });

  it('of 20 concurrent sends to one user only one passes the cooldown', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => send('racer')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(gw.app.simulator!.inbox.filter((m) => m.userid === 'demo-bob').length).toBeGreaterThan(0);
  });
});
