import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { RecipientSource, VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';

const LOGIN = Scenario.SCENARIO_LOGIN;
let gw: TestGateway;
let n = 0;
/** A fresh identity user bound to demo-alice, so tests do not share cooldowns. */
async function boundUser(): Promise<string> {
  const userId = `user-${++n}`;
  await gw.binding.bindUser({ userId, target: { $case: 'dingtalkUserId', value: 'demo-alice' } });
  return userId;
}
const send = (userId: string, extra: Record<string, unknown> = {}) =>
  gw.verification.sendCode({ userId, scenario: LOGIN, dingtalkUserId: '', mobile: '', locale: '', ...extra });
const verify = (userId: string, code: string, scenario = LOGIN) =>
  gw.verification.verifyCode({ userId, scenario, code });
const wrong = (code: string) => (code === '000000' ? '000001' : '000000');

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

describe('SendCode then VerifyCode', () => {
  it('sends a code to the bound user and approves it exactly once', async () => {
    const res = await send('alice');
    expect(res.verificationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(res.taskId).toMatch(/^\d+$/);
    expect(res.dingtalkUserId).toBe('demo-alice');
    expect(res.recipientSource).toBe(RecipientSource.RECIPIENT_SOURCE_BINDING);
    expect(res.expiresAt!.getTime() - Date.now()).toBeGreaterThan(295_000);
    expect(res.resendAfter!.getTime() - Date.now()).toBeGreaterThan(55_000);

    const message = gw.app.simulator!.inbox.at(-1)!;
    expect(message.userid).toBe('demo-alice');
    expect(message.text).toContain(res.verificationId.slice(0, 8));
    const code = latestCode(gw, 'demo-alice');
    expect(await verify('alice', code)).toEqual({
      result: VerifyResult.VERIFY_RESULT_APPROVED,
      attemptsRemaining: 0,
      verificationId: res.verificationId,
    });
    expect(await verify('alice', code)).toMatchObject({
      result: VerifyResult.VERIFY_RESULT_ALREADY_USED,
      verificationId: res.verificationId,
    });
  });

  it('counts wrong codes down, then locks even the right code', async () => {
    const user = await boundUser();
    await send(user);
    const code = latestCode(gw, 'demo-alice');
    for (let remaining = 4; remaining >= 0; remaining--) {
      expect(await verify(user, wrong(code))).toMatchObject({
        result: VerifyResult.VERIFY_RESULT_WRONG_CODE,
        attemptsRemaining: remaining,
      });
    }
    expect((await verify(user, code)).result).toBe(VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS);
  });

  it('reports expired codes, then not found once they are long gone', async () => {
    const user = await boundUser();
    await send(user);
    const code = latestCode(gw, 'demo-alice');
    gw.advance(301_000);
    expect((await verify(user, code)).result).toBe(VerifyResult.VERIFY_RESULT_EXPIRED);
  });

  it('reports not found when nothing was sent, and scenarios are separate', async () => {
    const user = await boundUser();
    expect((await verify(user, '123456')).result).toBe(VerifyResult.VERIFY_RESULT_NOT_FOUND);
    await send(user);
    const code = latestCode(gw, 'demo-alice');
    expect((await verify(user, code, Scenario.SCENARIO_TWO_FACTOR)).result).toBe(
      VerifyResult.VERIFY_RESULT_NOT_FOUND,
    );
    expect((await verify(user, code)).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
  });

  it('a new code replaces the old one', async () => {
    const user = await boundUser();
    await send(user);
    const first = latestCode(gw, 'demo-alice');
    gw.advance(60_000);
    await send(user);
    const second = latestCode(gw, 'demo-alice');
    if (first !== second)
      expect((await verify(user, first)).result).toBe(VerifyResult.VERIFY_RESULT_WRONG_CODE);
    expect((await verify(user, second)).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
  });

  it('every message is unique, even for the same code', async () => {
    const texts = gw.app.simulator!.inbox.map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('renders the requested locale', async () => {
    const user = await boundUser();
    await send(user, { locale: 'en-US' });
    expect(gw.app.simulator!.inbox.at(-1)!.title).toBe('Sign-in code');
    gw.advance(60_000);
    await send(user, { locale: 'fr' });
    expect(gw.app.simulator!.inbox.at(-1)!.title).toBe('登录验证码');
  });
});

describe('limits', () => {
  it('enforces the resend cooldown and says when to retry', async () => {
    const user = await boundUser();
    await send(user);
    gw.advance(20_000);
    const err = await rpcError(send(user));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/less than 60 s ago; retry in 40 s/);
    expect(err.metadata.get('retry-after')).toEqual(['40']);
    gw.advance(40_000);
    await expect(send(user)).resolves.toBeDefined();
  });

  it('enforces at most 10 sends per user per scenario per hour', async () => {
    const user = await boundUser();
    for (let i = 0; i < 10; i++) {
      await send(user);
      gw.advance(60_000);
    }
    const err = await rpcError(send(user));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toContain('reached 10 codes per hour for login');
    // Ten messages without a verified code also use up the user's budget since the last success
    // (CODE_MAX_SENDS_SINCE_SUCCESS): approving the last code starts it again.
    expect((await verify(user, latestCode(gw, 'demo-alice'))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    // Another scenario has its own quota.
    await expect(send(user, { scenario: Scenario.SCENARIO_TWO_FACTOR })).resolves.toBeDefined();
    gw.advance(3_600_000);
    await expect(send(user)).resolves.toBeDefined();
  });
});

describe('recipients', () => {
  it('an explicit DingTalk userid wins and leaves the binding alone', async () => {
    const res = await send('alice', {
      dingtalkUserId: 'demo-bob',
      scenario: Scenario.SCENARIO_PASSWORD_RESET,
    });
    expect(res).toMatchObject({
      dingtalkUserId: 'demo-bob',
      recipientSource: RecipientSource.RECIPIENT_SOURCE_EXPLICIT,
    });
    expect((await gw.binding.getBinding({ userId: 'alice' })).binding!.dingtalkUserId).toBe('demo-alice');
  });

  it('an unbound user with a mobile is looked up and bound', async () => {
    const res = await send('carol', { mobile: '13800000003' });
    expect(res).toMatchObject({
      dingtalkUserId: 'demo-carol',
      recipientSource: RecipientSource.RECIPIENT_SOURCE_MOBILE,
    });
    expect((await gw.binding.getBinding({ userId: 'carol' })).binding!.dingtalkUserId).toBe('demo-carol');
    await gw.binding.unbindUser({ userId: 'carol' });
  });

  it('an unbound user fails with FAILED_PRECONDITION saying so', async () => {
    const err = await rpcError(send('nobody'));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('user nobody is not bound to a DingTalk account, so the code could not be sent');
    const byMobile = await rpcError(send('nobody', { mobile: '13999999999' }));
    expect(byMobile.code).toBe(status.FAILED_PRECONDITION);
    expect(byMobile.details).not.toContain('13999999999');
  });
});

describe('bad input names the field', () => {
  it.each([
    ['user_id', { userId: '' }],
    ['user_id', { userId: 'has space' }],
    ['user_id', { userId: 'x'.repeat(129) }],
    ['scenario', { scenario: Scenario.SCENARIO_UNSPECIFIED }],
    ['scenario', { scenario: 99 }],
    ['dingtalk_user_id', { dingtalkUserId: 'bad/id' }],
    ['mobile', { mobile: 'call me' }],
    ['locale', { locale: '!!' }],
  ])('SendCode %s', async (field, patch) => {
    const err = await rpcError(
      gw.verification.sendCode({
        userId: 'alice',
        scenario: LOGIN,
        dingtalkUserId: '',
        mobile: '',
        locale: '',
        ...patch,
      }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.startsWith(`${field}: `)).toBe(true);
    expect(err.metadata.get('field')).toEqual([field]);
  });

  it.each([
    ['user_id', { userId: '' }],
    ['scenario', { scenario: 0 }],
    ['code', { code: '' }],
    ['code', { code: '12345' }],
    ['code', { code: '12345x' }],
  ])('VerifyCode %s', async (field, patch) => {
    const err = await rpcError(
      gw.verification.verifyCode({ userId: 'alice', scenario: LOGIN, code: '123456', ...patch }),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details.startsWith(`${field}: `)).toBe(true);
  });
});
