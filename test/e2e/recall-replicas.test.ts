import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult, type SendCodeResponse } from '../../src/gen/dingtalk/gateway/v1/verification';
import { simulatorEnv } from '../helpers/gateway';
import { redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';
import { startSidecar, type Sidecar } from '../helpers/sidecar';

/**
 * Two sidecar processes on one Redis share one recall due list: every message is recalled
 * by exactly one of them, whichever replica sent or approved its code, and a restart
 * recalls nothing twice and forgets nothing that was due.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the two-replica recall tests: ${why}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithRedis('recall with two replicas on one Redis', () => {
  let redis: RedisHandle;
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let env: Record<string, string>;
  let n = 0;
  /** Every process's output, restarted ones included: their audit lines. */
  const outputs: Array<() => string> = [];

  beforeAll(async () => {
    redis = await startRedis({ throwaway: true });
    sim = await startSimulator();
    env = {
      ...simulatorEnv(sim),
      STORE_URL: redis.url,
      CODE_TTL_SECONDS: '30', // the shortest lifetime there is
      RECALL_POLL_MS: '50',
      DELIVERY_FOLLOW_UP_MS: '0',
      LOG_LEVEL: 'info', // the helper waits for the info line 'listening on'
    };
    [a, b] = await Promise.all([startSidecar(env), startSidecar(env)]);
    outputs.push(a.output, b.output);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.close();
  });

  const userOf = new Map<string, string>();
  const sendAs = async (via: Sidecar) => {
    const userId = `rr-${++n}`;
    const sent = await via.verification.sendCode({
      userId,
      scenario: Scenario.SCENARIO_LOGIN,
      dingtalkUserId: 'demo-alice',
    });
    userOf.set(sent.verificationId, userId);
    return sent;
  };
  const approve = async (via: Sidecar, sent: SendCodeResponse) => {
    const m = sim.inbox.find((x) => x.taskId === sent.taskId)!;
    const code = /\*\*(\d+)\*\*/.exec(m.text)![1];
    const userId = userOf.get(sent.verificationId)!;
    const r = await via.verification.verifyCode({ userId, scenario: Scenario.SCENARIO_LOGIN, code });
    expect(r.result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
  };
  const recallsOf = (sent: SendCodeResponse) => sim.recalls.filter((t) => t === sent.taskId).length;
  const recalledAudits = (sent: SendCodeResponse) =>
    outputs
      .map((o) => o())
      .join('')
      .split('\n')
      .filter((l) => l.includes('"audit":"code.recalled"') && l.includes(sent.verificationId));
  const allRecalled = async (sent: SendCodeResponse[], withinMs: number) => {
    const deadline = Date.now() + withinMs;
    while (Date.now() < deadline && !sent.every((s) => recallsOf(s) > 0)) await sleep(100);
    return sent.filter((s) => recallsOf(s) === 0).map((s) => s.verificationId);
  };

  it('recalls each message exactly once, approved through either replica or expired', async () => {
    const expiring = await Promise.all([sendAs(a), sendAs(b), sendAs(a), sendAs(b)]);
    const approved = await Promise.all([sendAs(a), sendAs(b), sendAs(a), sendAs(b), sendAs(a), sendAs(b)]);
    // Each approved through the replica that did not send it.
    await Promise.all(approved.map((s, i) => approve(i % 2 === 0 ? b : a, s)));
    expect(await allRecalled(approved, 5_000)).toEqual([]);
    for (const s of expiring) expect(recallsOf(s)).toBe(0);

    expect(await allRecalled(expiring, 40_000)).toEqual([]);
    await sleep(500); // ten polls of each replica more
    for (const s of [...expiring, ...approved]) {
      expect(recallsOf(s)).toBe(1);
      expect(recalledAudits(s)).toHaveLength(1);
      expect(sim.inbox.find((m) => m.taskId === s.taskId)!.recalled).toBe(true);
    }
    const reasons = (s: SendCodeResponse) => JSON.parse(recalledAudits(s)[0]).reason;
    expect(new Set(approved.map(reasons))).toEqual(new Set(['approved']));
    expect(new Set(expiring.map(reasons))).toEqual(new Set(['expired']));
  }, 60_000);

  it('after a restart nothing is recalled twice, and what was listed before it is still recalled once', async () => {
    const before = sim.recalls.length;
    const p = await sendAs(a);
    const q = await sendAs(a);
    expect(await a.stop()).toBe(0);
    await approve(b, p); // while A is down
    expect(await allRecalled([p], 5_000)).toEqual([]);

    a = await startSidecar(env);
    outputs.push(a.output);
    await approve(a, q);
    expect(await allRecalled([q], 5_000)).toEqual([]);
    await sleep(500);
    // Only p and q were recalled since: nothing of the first test again.
    expect(sim.recalls.slice(before).sort()).toEqual([p.taskId, q.taskId].sort());
    expect(recalledAudits(p)).toHaveLength(1);
    expect(recalledAudits(q)).toHaveLength(1);
  }, 60_000);
});
