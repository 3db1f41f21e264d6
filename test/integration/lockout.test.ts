import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * Failed verifications counted across codes, through a real gateway: six wrong codes in a
 * day lock the user in the scenario for a minute, then two, then the maximum of 200 s.
 */
const LOGIN = Scenario.SCENARIO_LOGIN;
let gw: TestGateway;
let shifted = 0;
/** The gateway's clock, moved forward by the tests. */
const gatewayNow = () => Date.now() + shifted;
const advance = (ms: number) => {
  shifted += ms;
  gw.advance(ms);
};
let n = 0;
async function boundUser(): Promise<string> {
  const userId = `locked-${++n}`;
  await gw.binding.bindUser({ userId, target: { $case: 'dingtalkUserId', value: 'demo-alice' } });
  return userId;
}
const send = (userId: string) =>
  gw.verification.sendCode({ userId, scenario: LOGIN, dingtalkUserId: '', mobile: '', locale: '' });
const verify = (userId: string, code: string) =>
  gw.verification.verifyCode({ userId, scenario: LOGIN, code });
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

beforeAll(async () => {
  gw = await startGateway({
    CODE_RESEND_INTERVAL_SECONDS: '0',
    CODE_MAX_SENDS_PER_HOUR: '1000',
    CODE_MAX_SENDS_PER_USER_PER_DAY: '500',
    CODE_MAX_SENDS_SINCE_SUCCESS: '0',
    CODE_MAX_FAILURES: '6',
    CODE_LOCKOUT_SECONDS: '60',
    CODE_MAX_LOCKOUT_SECONDS: '200',
  });
});
afterAll(() => gw.stop());

/** Five wrong codes on one code, then one on the next: the sixth failure locks. Returns the lock's end and the last code. */
async function lockOut(user: string): Promise<{ until: number; code: string }> {
  await send(user);
  const first = latestCode(gw, 'demo-alice');
  for (let remaining = 4; remaining >= 0; remaining--) {
    expect(await verify(user, wrong(first))).toMatchObject({
      result: VerifyResult.VERIFY_RESULT_WRONG_CODE,
      attemptsRemaining: remaining,
    });
  }
  const sent = await send(user);
  const code = latestCode(gw, 'demo-alice');
  const locking = await verify(user, wrong(code));
  expect(locking).toMatchObject({
    result: VerifyResult.VERIFY_RESULT_LOCKED,
    verificationId: sent.verificationId,
  });
  return { until: locking.lockedUntil!.getTime(), code };
}

describe('failed verifications across codes', () => {
  it('locks at CODE_MAX_FAILURES, refuses the right code and SendCode until the lock ends, then approves', async () => {
    const user = await boundUser();
    const started = gatewayNow();
    const { until, code } = await lockOut(user);
    expect(until - started).toBeGreaterThanOrEqual(59_000);
    expect(until - gatewayNow()).toBeLessThanOrEqual(60_000);

    // The right code is not even compared while locked, and the answer says until when.
    const refused = await verify(user, code);
    expect(refused).toEqual({
      result: VerifyResult.VERIFY_RESULT_LOCKED,
      attemptsRemaining: 0,
      verificationId: '',
      lockedUntil: new Date(until),
    });
    const err = await rpcError(send(user));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/locked out of login after too many wrong codes/);
    expect(Number(err.metadata.get('retry-after')[0])).toBeGreaterThan(55);
    expect(Number(err.metadata.get('retry-after')[0])).toBeLessThanOrEqual(60);

    const locked = gw.logs.filter((l) => l.audit === 'code.locked');
    expect(locked).toHaveLength(1);
    expect(locked[0]).toMatchObject({
      userId: user,
      scenario: 'login',
      until: new Date(until).toISOString(),
    });
    expect(JSON.stringify(locked[0])).not.toContain(code);
    const lockouts = await gw.app.metrics.registry.getSingleMetricAsString('dtg_lockouts_total');
    expect(lockouts).toContain('dtg_lockouts_total{scenario="login"} 1');

    advance(until - gatewayNow());
    expect((await verify(user, code)).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    // A used code says so while it is retained: not "not found".
    expect(await verify(user, code)).toMatchObject({ result: VerifyResult.VERIFY_RESULT_ALREADY_USED });
    expect((await send(user)).verificationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('doubles the lock each time it is repeated, up to CODE_MAX_LOCKOUT_SECONDS; probing never extends it', async () => {
    const user = await boundUser();
    const lengths: number[] = [];
    for (let lock = 0; lock < 4; lock++) {
      const before = gatewayNow();
      const { until, code } = await lockOut(user);
      lengths.push(Math.round((until - before) / 1000));
      for (let probe = 0; probe < 3; probe++) {
        advance(10_000);
        expect((await verify(user, code)).lockedUntil).toEqual(new Date(until));
        expect((await rpcError(send(user))).code).toBe(status.RESOURCE_EXHAUSTED);
      }
      advance(until - gatewayNow());
    }
    expect(lengths).toEqual([60, 120, 200, 200]);
  });

  it('starts the count over after an approval', async () => {
    const user = await boundUser();
    await send(user);
    const first = latestCode(gw, 'demo-alice');
    for (let i = 0; i < 5; i++) await verify(user, wrong(first));
    await send(user);
    expect((await verify(user, latestCode(gw, 'demo-alice'))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    // Five more wrong codes are fine again; the sixth since the approval locks.
    await send(user);
    const third = latestCode(gw, 'demo-alice');
    for (let i = 0; i < 5; i++)
      expect((await verify(user, wrong(third))).result).toBe(VerifyResult.VERIFY_RESULT_WRONG_CODE);
    await send(user);
    expect((await verify(user, wrong(latestCode(gw, 'demo-alice')))).result).toBe(
      VerifyResult.VERIFY_RESULT_LOCKED,
    );
  });

  it('keeps scenarios and users apart', async () => {
    const user = await boundUser();
    await lockOut(user);
    const other = await gw.verification.sendCode({
      userId: user,
      scenario: Scenario.SCENARIO_TWO_FACTOR,
      dingtalkUserId: '',
      mobile: '',
      locale: '',
    });
    expect(other.verificationId).toBeTruthy();
    const neighbour = await boundUser();
    await send(neighbour);
    expect((await verify(neighbour, latestCode(gw, 'demo-alice'))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
  });
});
