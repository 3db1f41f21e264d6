import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
let n = 0;
beforeAll(async () => {
  gw = await startGateway({ DINGTALK_TIMEOUT_MS: '400' });
});
afterAll(() => gw.stop());
afterEach(() => gw.app.simulator!.clearFaults());

const send = (userId = `f-${++n}`, options = {}) =>
  gw.verification.sendCode(
    { userId, scenario: Scenario.SCENARIO_LOGIN, dingtalkUserId: 'demo-alice', mobile: '', locale: '' },
    options,
  );

describe('DingTalk failures reach the caller classified, and cost nothing', () => {
  it('refetches an expired token once and succeeds', async () => {
    await send();
    const before = gw.app.simulator!.calls.token ?? 0;
    gw.app.simulator!.expireTokens();
    await expect(send()).resolves.toBeDefined();
    expect((gw.app.simulator!.calls.token ?? 0) - before).toBe(1);
  });

  it.each([
    [60011, status.FAILED_PRECONDITION, /permission/i],
    [60020, status.FAILED_PRECONDITION, /whitelist/i],
    [50002, status.FAILED_PRECONDITION, /range/i],
    [40035, status.INTERNAL, /40035/],
    [90020, status.RESOURCE_EXHAUSTED, /90020/],
  ])('errcode %d → %s, not retried', async (errcode, code, words) => {
    const calls = gw.app.simulator!.calls.asyncsend_v2 ?? 0;
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode }, 5);
    const err = await rpcError(send());
    expect(err.code).toBe(code);
    expect(err.details).toMatch(words);
    expect(err.metadata.get('dingtalk-errcode')).toEqual([String(errcode)]);
    expect((gw.app.simulator!.calls.asyncsend_v2 ?? 0) - calls).toBe(1);
  });

  it('errcode 88 is unwrapped through its sub_code', async () => {
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: 88, subCode: 60011 }, 5);
    const err = await rpcError(send());
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.metadata.get('dingtalk-errcode')).toEqual(['60011']);
  });

  it('a busy DingTalk is retried and then succeeds', async () => {
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: -1 }, 1);
    await expect(send()).resolves.toBeDefined();
  });

  it('an HTML ban page becomes UNAVAILABLE', async () => {
    gw.app.simulator!.inject(
      'asyncsend_v2',
      { type: 'http', status: 200, body: '<html>banned</html>', contentType: 'text/html' },
      5,
    );
    expect((await rpcError(send())).code).toBe(status.UNAVAILABLE);
  });

  it('a failed send leaves no code behind and charges no cooldown', async () => {
    const userId = `f-${++n}`;
    gw.app.simulator!.inject('asyncsend_v2', { type: 'http', status: 502, body: 'bad gateway' }, 5);
    expect((await rpcError(send(userId))).code).toBe(status.UNAVAILABLE);
    const v = await gw.verification.verifyCode({ userId, scenario: Scenario.SCENARIO_LOGIN, code: '123456' });
    expect(v.result).toBe(VerifyResult.VERIFY_RESULT_NOT_FOUND);
    gw.app.simulator!.clearFaults();
    await expect(send(userId)).resolves.toBeDefined();
  });

  it("the caller's deadline bounds the DingTalk call", async () => {
    gw.app.simulator!.inject('asyncsend_v2', { type: 'delay', ms: 3000 }, 1);
    const started = Date.now();
    const err = await rpcError(send(undefined, { timeoutMs: 200 }));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a DingTalk timeout becomes UNAVAILABLE', async () => {
    gw.app.simulator!.inject('asyncsend_v2', { type: 'delay', ms: 5000 }, 5);
    const started = Date.now();
    expect((await rpcError(send())).code).toBe(status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});
