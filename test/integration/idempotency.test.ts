import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import type { SendCodeRequest } from '../../src/gen/dingtalk/gateway/v1/verification';
import { idempotencyRef } from '../../src/verification/idempotency';
import { rpcError } from '../helpers/grpc-client';
import { startGateway, type TestGateway } from '../helpers/gateway';

/**
 * SendCodeRequest.idempotency_key against a real gateway and its simulated DingTalk: a retry
 * gets the first call's answer and sends nothing, duplicates in flight share one message, a
 * key is bound to its request, and a failed first call leaves the key free.
 */
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ LOG_LEVEL: 'info' });
});
afterAll(() => gw.stop());

const sim = () => gw.app.simulator!;
const sends = () => sim().calls.asyncsend_v2 ?? 0;
const request = (
  userId: string,
  key: string,
  over: Partial<SendCodeRequest> = {},
): Partial<SendCodeRequest> => ({
  userId,
  scenario: Scenario.SCENARIO_LOGIN,
  dingtalkUserId: 'demo-alice',
  idempotencyKey: key,
  ...over,
});

describe('SendCode with an idempotency key', () => {
  it('answers a retry with the first response, the same verification id, and sends nothing more', async () => {
    const before = sends();
    const first = await gw.verification.sendCode(request('alice', 'retry-0001'));
    // Without the key the cooldown would refuse this; with it the first answer comes back.
    const again = await gw.verification.sendCode(request('alice', 'retry-0001'));
    expect(again).toEqual(first);
    expect(sends() - before).toBe(1);
    expect((await rpcError(gw.verification.sendCode(request('alice', '')))).code).toBe(
      status.RESOURCE_EXHAUSTED,
    );
    const replayed = gw.logs.find((l) => l.audit === 'code.replayed');
    expect(replayed).toMatchObject({
      userId: 'alice',
      scenario: 'login',
      verificationId: first.verificationId,
      idempotencyRef: idempotencyRef('SendCode', 'retry-0001'),
    });
    expect(gw.logText()).not.toContain('retry-0001');
  });

  it('sends one message for 20 concurrent duplicates, and all get its answer', async () => {
    sim().inject('asyncsend_v2', { type: 'delay', ms: 300 });
    const before = sends();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        gw.verification.sendCode(request('bob', 'bob-4f1c9e', { scenario: Scenario.SCENARIO_TWO_FACTOR })),
      ),
    );
    expect(sends() - before).toBe(1);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0].verificationId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it.each<[string, Partial<SendCodeRequest>]>([
    ['user', { userId: 'bob' }],
    ['scenario', { scenario: Scenario.SCENARIO_PASSWORD_RESET }],
    ['recipient', { dingtalkUserId: 'demo-bob' }],
    ['locale', { locale: 'en-US' }],
  ])('refuses the same key with another %s: INVALID_ARGUMENT naming idempotency_key', async (_, over) => {
    const key = `carol-${Object.keys(over)[0]}`;
    await gw.verification.sendCode(request(key, key, { scenario: Scenario.SCENARIO_RISK_WARNING }));
    const before = sends();
    const err = await rpcError(
      gw.verification.sendCode(request(key, key, { scenario: Scenario.SCENARIO_RISK_WARNING, ...over })),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('field')).toEqual(['idempotency_key']);
    expect(err.details).toMatch(/different request/);
    expect(err.details).not.toContain(key);
    expect(sends()).toBe(before);
  });

  it('ignores client_ip when comparing: a retry through another proxy still gets the first answer', async () => {
    const first = await gw.verification.sendCode(request('dave', 'dave-ip', { clientIp: '203.0.113.1' }));
    const again = await gw.verification.sendCode(request('dave', 'dave-ip', { clientIp: '203.0.113.2' }));
    expect(again.verificationId).toBe(first.verificationId);
  });

  it('leaves the key free when the first call fails, so a retry with it sends', async () => {
    sim().inject('asyncsend_v2', { type: 'errcode', errcode: 60020 });
    const before = sends();
    const failed = await rpcError(gw.verification.sendCode(request('erin', 'erin-1')));
    expect(failed.code).toBe(status.FAILED_PRECONDITION);
    const retried = await gw.verification.sendCode(request('erin', 'erin-1'));
    expect(sends() - before).toBe(2);
    expect(await gw.verification.sendCode(request('erin', 'erin-1'))).toEqual(retried);
  });

  it('tells duplicates waiting on a first call that fails to retry (ABORTED), and the retry sends', async () => {
    // DingTalk is busy three times: the first call retries for a while, then fails.
    sim().inject('asyncsend_v2', { type: 'errcode', errcode: -1 }, 3);
    const before = sends();
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        gw.verification.sendCode(request('frank', 'frank-1')).then(
          () => 'OK',
          (e: { code: number }) => status[e.code],
        ),
      ),
    );
    expect(outcomes.sort()).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED', 'UNAVAILABLE']);
    expect(sends() - before).toBe(3);
    const err = gw.logs.filter((l) => l.audit === 'code.send_failed' && l.userId === 'frank');
    expect(err).toHaveLength(1);
    await gw.verification.sendCode(request('frank', 'frank-1'));
    expect(sends() - before).toBe(4);
  });

  it('binds a key to its first request: another user with the same key is refused', async () => {
    const a = await gw.verification.sendCode(
      request('gina', 'shared-key', { scenario: Scenario.SCENARIO_PASSWORD_RECOVERY }),
    );
    const err = await rpcError(
      gw.verification.sendCode(
        request('hank', 'shared-key', { scenario: Scenario.SCENARIO_PASSWORD_RECOVERY }),
      ),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(a.verificationId).toBeTruthy();
  });

  it.each(['x'.repeat(129), 'has space', 'ключ', 'a\nb'])('refuses a malformed key %#', async (key) => {
    const err = await rpcError(gw.verification.sendCode(request('alice', key)));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('field')).toEqual(['idempotency_key']);
  });
});
