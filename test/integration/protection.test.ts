import { status } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { simulatorEnv, startGateway, type TestGateway } from '../helpers/gateway';
import { healthStatus, rpcError } from '../helpers/grpc-client';

let n = 0;
const send = (gw: TestGateway, extra: { clientIp?: string; userId?: string } = {}) =>
  gw.verification.sendCode({
    userId: `p-${++n}`,
    scenario: Scenario.SCENARIO_LOGIN,
    dingtalkUserId: 'demo-alice',
    ...extra,
  });

/** A gateway in live mode against `sim`. */
const liveGateway = (sim: Simulator, env: Record<string, string> = {}) =>
  startGateway({
    ...simulatorEnv(sim),
    DELIVERY_FOLLOW_UP_MS: '0',
    ...env,
  });

describe('per-client-IP send limit', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ CODE_MAX_SENDS_PER_IP_PER_HOUR: '2' });
  });
  afterAll(() => gw.stop());

  it('refuses the third send from one address in an hour, over different users, with a retry-after', async () => {
    await send(gw, { clientIp: '203.0.113.7' });
    await send(gw, { clientIp: '203.0.113.7' });
    const err = await rpcError(send(gw, { clientIp: '203.0.113.7' }));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/^this client address reached 2 codes per hour; retry in \d+ s$/);
    expect(Number(err.metadata.get('retry-after')[0])).toBeGreaterThan(3000);
    // Another address, or none, is not affected.
    await send(gw, { clientIp: '2001:db8::1' });
    await send(gw);
  });

  it("does not hold the user's cooldown when the address is refused, nor the address's slot when DingTalk fails", async () => {
    await send(gw, { clientIp: '198.51.100.1' });
    await send(gw, { clientIp: '198.51.100.1' });
    const userId = `p-refused-${n}`;
    await rpcError(send(gw, { clientIp: '198.51.100.1', userId }));
    await send(gw, { clientIp: '198.51.100.2', userId }); // the user's cooldown was released

    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: 60011 });
    await rpcError(send(gw, { clientIp: '198.51.100.3' }));
    await send(gw, { clientIp: '198.51.100.3' });
    await send(gw, { clientIp: '198.51.100.3' });
  });

  it('rejects an address that is not one', async () => {
    const err = await rpcError(send(gw, { clientIp: '10.0.0.256' }));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.metadata.get('field')).toEqual(['client_ip']);
  });
});

describe('the gateway keeps DingTalk calls under the per-app rate', () => {
  let sim: Simulator;
  beforeAll(async () => {
    // As strict as DingTalk: a sixth call inside any second answers 90018.
    sim = await startSimulator({ maxCallsPerSecond: 5 });
  });
  afterAll(() => sim.close());

  const burst = async (gw: TestGateway) => {
    const sent = await Promise.all(Array.from({ length: 12 }, () => send(gw)));
    const calls = gw.app.dingtalk.stats().calls.asyncsend_v2 ?? {};
    return { sent, calls };
  };

  it('without the gate, a burst of 12 sends is throttled by DingTalk (the retries hide it from callers)', async () => {
    const gw = await liveGateway(sim, { DINGTALK_MAX_CALLS_PER_SECOND: '0' });
    try {
      const { sent, calls } = await burst(gw);
      expect(sent).toHaveLength(12);
      expect(calls['90018']).toBeGreaterThan(0);
      expect(sim.throttled).toBeGreaterThan(0);
    } finally {
      await gw.stop();
    }
  });

  it('with the gate, the same burst is spaced out and never throttled', async () => {
    const gw = await liveGateway(sim, { DINGTALK_MAX_CALLS_PER_SECOND: '4' });
    try {
      await new Promise((r) => setTimeout(r, 1100)); // the first test's calls leave DingTalk's window
      const throttled = sim.throttled;
      const { sent, calls } = await burst(gw);
      expect(sent).toHaveLength(12);
      expect(calls['90018']).toBeUndefined();
      expect(sim.throttled).toBe(throttled);
    } finally {
      await gw.stop();
    }
  });
});

describe('circuit breaker', () => {
  let sim: Simulator;
  let gw: TestGateway;
  beforeAll(async () => {
    sim = await startSimulator();
    gw = await liveGateway(sim, {
      DINGTALK_CIRCUIT_FAILURES: '2',
      DINGTALK_CIRCUIT_OPEN_SECONDS: '5',
      DINGTALK_TIMEOUT_MS: '300',
    });
  });
  afterAll(async () => {
    await gw.stop();
    await sim.close();
  });

  it('stops calling DingTalk after outages in a row, reports it in health, and recovers', async () => {
    sim.inject('asyncsend_v2', { type: 'reset' }, 100);
    for (let i = 0; i < 2; i++) expect((await rpcError(send(gw))).code).toBe(status.UNAVAILABLE);
    expect(await healthStatus(gw.app.grpc.address, 'dingtalk')).toBe('NOT_SERVING');
    // Liveness is not DingTalk's: the server and its services stay SERVING.
    expect(await healthStatus(gw.app.grpc.address, '')).toBe('SERVING');

    const calls = sim.calls.asyncsend_v2;
    const fast = await rpcError(send(gw));
    expect(fast.code).toBe(status.UNAVAILABLE);
    expect(fast.details).toMatch(
      /^DingTalk failed 2 times in a row; the gateway is not calling it for [1-5] s$/,
    );
    expect(Number(fast.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
    expect(sim.calls.asyncsend_v2).toBe(calls);

    sim.clearFaults();
    gw.advance(5000);
    await send(gw);
    expect(await healthStatus(gw.app.grpc.address, 'dingtalk')).toBe('SERVING');
    expect(gw.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'DingTalk circuit open',
        'DingTalk circuit half-open',
        'DingTalk circuit closed',
      ]),
    );
  });
});
