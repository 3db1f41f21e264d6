import { status, type ServiceError } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { simulatorEnv } from '../helpers/gateway';
import { redisTopologyAvailability, startRedisSentinel } from '../helpers/redis-topologies';
import { startSidecar, type Sidecar } from '../helpers/sidecar';

/**
 * Two gateway processes on Redis behind Sentinel, under VerifyCode and SendCode load, while
 * the master is SIGKILLed and a replica takes over. Calls in between must fail UNAVAILABLE,
 * never answer wrongly, and no code may be approved twice. Replication is asynchronous, so
 * what the old master had not passed on is lost: the "lagging replica" runs stop the
 * replica for a second before the kill, so that loss is certain, and show that
 * REDIS_WAIT_REPLICAS=1 turns it into UNAVAILABLE answers instead.
 */
const why = redisTopologyAvailability();
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the Sentinel failover test: ${why}`);

const MAX_ATTEMPTS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * A call that never answers is a wrong answer too, and must not hang the test. The timer is
 * cleared once the call settles: hundreds left running would hold jest open after the run.
 */
const within = <T>(p: Promise<T>, ms = 8000): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
};

interface Outcome {
  unavailable: number;
  wrongAnswers: string[];
  doubleApprovals: number;
  /** Judged submissions (WRONG_CODE or APPROVED answers) beyond CODE_MAX_ATTEMPTS, summed over codes. */
  attemptsOverLimit: number;
  /** From the kill to the last UNAVAILABLE answer (Infinity: still unavailable at the end). */
  recoverMs: number;
  sends: { ok: number; unavailable: number };
  calls: number;
}

async function failover(opts: { wait: boolean; lag: boolean }): Promise<Outcome> {
  const redis = await startRedisSentinel();
  let sim: Simulator | undefined;
  let sidecars: Sidecar[] = [];
  try {
    sim = await startSimulator();
    const env = {
      ...simulatorEnv(sim),
      STORE_URL: redis.url,
      STORE_PROBE_INTERVAL_MS: '200',
      LOG_LEVEL: 'info', // the helper waits for the info line 'listening on'
      DINGTALK_MAX_CALLS_PER_SECOND: '10000',
      CODE_MAX_FAILURES: '100',
      ...(opts.wait ? { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '300' } : {}),
    };
    sidecars = await Promise.all([startSidecar(env), startSidecar(env)]);
    const via = (i: number) => sidecars[i % 2];
    const inbox = sim.inbox;
    const codeOf = (verificationId: string) => {
      const m = inbox.find((x) => x.text.includes(verificationId.slice(0, 8)));
      return /\*\*(\d+)\*\*/.exec(m!.text)![1];
    };
    const send = (i: number, userId: string) =>
      via(i).verification.sendCode({
        userId,
        scenario: Scenario.SCENARIO_LOGIN,
        dingtalkUserId: 'demo-alice',
        mobile: '',
        locale: '',
      });

    // Seeded codes, replicated before anything fails.
    const users = Array.from({ length: 60 }, (_, i) => `f-${i}`);
    const codes = await Promise.all(users.map(async (u, i) => codeOf((await send(i, u)).verificationId)));
    await sleep(200);

    const judged = new Array<number>(users.length).fill(0);
    const approved = new Array<number>(users.length).fill(0);
    const wrongAnswers: string[] = [];
    let unavailable = 0;
    let calls = 0;
    const killAt = { t: Number.POSITIVE_INFINITY };
    let lastUnavailableAt = 0;
    let lastOkAt = 0;
    const note = (ok: boolean) => {
      if (ok) lastOkAt = Date.now();
    };
    const failed = (e: unknown, what: string) => {
      if ((e as ServiceError).code === status.UNAVAILABLE) {
        unavailable += 1;
        lastUnavailableAt = Date.now();
      } else wrongAnswers.push(`${what}: ${(e as Error).message}`);
    };
    const submit = async (i: number, k: number, right: boolean) => {
      const guess = right ? codes[i] : String((Number(codes[i]) + 1 + k) % 1_000_000).padStart(6, '0');
      calls += 1;
      try {
        const r = await within(
          via(i + k).verification.verifyCode({
            userId: users[i],
            scenario: Scenario.SCENARIO_LOGIN,
            code: guess,
          }),
        );
        note(true);
        if (
          r.result === VerifyResult.VERIFY_RESULT_APPROVED ||
          r.result === VerifyResult.VERIFY_RESULT_WRONG_CODE
        )
          judged[i] += 1;
        if (r.result === VerifyResult.VERIFY_RESULT_APPROVED) approved[i] += 1;
        if (r.result === VerifyResult.VERIFY_RESULT_APPROVED && !right)
          wrongAnswers.push(`${users[i]}: wrong approved`);
        if (r.result === VerifyResult.VERIFY_RESULT_WRONG_CODE && right)
          wrongAnswers.push(`${users[i]}: right refused`);
        if (r.result === VerifyResult.VERIFY_RESULT_NOT_FOUND) wrongAnswers.push(`${users[i]}: code lost`);
      } catch (e) {
        failed(e, `verify ${users[i]}`);
      }
    };

    // Each code gets its first burst (three wrong, one right) at its own time across the run,
    // then one right and one wrong submission every 150 ms: an approval the failover loses
    // would be approved again, and lost attempts would be judged again.
    const started = Date.now();
    const runMs = 7000;
    const end = started + runMs;
    const drive = async (i: number) => {
      await sleep((i * runMs * 0.8) / users.length);
      await Promise.all([submit(i, 0, false), submit(i, 1, false), submit(i, 2, false), submit(i, 3, true)]);
      for (let k = 4; Date.now() < end; k += 2) {
        await Promise.all([submit(i, k, true), submit(i, k + 1, false), sleep(150)]);
      }
    };
    const sends = { ok: 0, unavailable: 0 };
    const sendLoad = async () => {
      for (let n = 0; Date.now() < end; n++) {
        await within(send(n, `s-${n}`)).then(
          () => {
            sends.ok += 1;
            note(true);
          },
          (e: unknown) => {
            if ((e as ServiceError).code === status.UNAVAILABLE) sends.unavailable += 1;
            failed(e, `send s-${n}`);
          },
        );
        await sleep(50);
      }
    };
    const chaos = async () => {
      if (opts.lag) {
        await sleep(1000);
        redis.pause(redis.replicaPort);
        await sleep(1000);
      } else {
        await sleep(1500);
      }
      killAt.t = Date.now();
      await redis.kill(redis.masterPort);
      if (opts.lag) redis.resume(redis.replicaPort);
    };
    await Promise.all([...users.map((_, i) => drive(i)), sendLoad(), chaos()]);
    if (wrongAnswers.length > 0 && process.env.FAILOVER_DEBUG)
      console.info(sidecars.map((s) => s.output().slice(-3000)).join('\n----\n'));
    expect(await redis.currentMaster()).toBe(redis.replicaPort);
    return {
      unavailable,
      wrongAnswers,
      doubleApprovals: approved.filter((n) => n > 1).length,
      attemptsOverLimit: judged.reduce((sum, n) => sum + Math.max(0, n - MAX_ATTEMPTS), 0),
      recoverMs: lastOkAt > lastUnavailableAt ? lastUnavailableAt - killAt.t : Number.POSITIVE_INFINITY,
      sends,
      calls,
    };
  } finally {
    await Promise.all(sidecars.map((s) => s.stop()));
    await sim?.close();
    await redis.close();
  }
}

describeWithRedis('failover on Redis Sentinel under load', () => {
  const report = (name: string, o: Outcome) =>
    console.info(
      `${name}: ${o.calls} verifications, ${o.unavailable} UNAVAILABLE, ${o.doubleApprovals} codes approved twice, ` +
        `${o.attemptsOverLimit} attempts judged over the limit, recovered ${o.recoverMs} ms after the kill; ` +
        `SendCode ${o.sends.ok} ok, ${o.sends.unavailable} UNAVAILABLE`,
    );

  it('kills the master: UNAVAILABLE meanwhile, never a wrong answer, no code approved twice', async () => {
    const o = await failover({ wait: false, lag: false });
    report('master killed', o);
    expect(o.wrongAnswers).toEqual([]);
    expect(o.doubleApprovals).toBe(0);
    expect(o.unavailable).toBeGreaterThan(0);
    expect(o.recoverMs).toBeLessThan(10_000);
  }, 90_000);

  it('with REDIS_WAIT_REPLICAS=1 a lagging replica costs UNAVAILABLE answers, never an approval or an attempt', async () => {
    // Side by side, each on its own ports, to keep the file well under a minute.
    const [lagged, waited] = await Promise.all([
      failover({ wait: false, lag: true }),
      failover({ wait: true, lag: true }),
    ]);
    report('replica lagging, no WAIT', lagged);
    // Without WAIT what the replica missed is gone: measured (reported above), not asserted.
    expect(lagged.wrongAnswers.filter((w) => !w.includes('code lost'))).toEqual([]);

    report('replica lagging, REDIS_WAIT_REPLICAS=1', waited);
    expect(waited.wrongAnswers).toEqual([]);
    expect(waited.doubleApprovals).toBe(0);
    expect(waited.attemptsOverLimit).toBe(0);
    // With one replica, the promoted master has none to WAIT for: writes stay UNAVAILABLE
    // until a replica joins it (run two replicas for REDIS_WAIT_REPLICAS=1).
    expect(waited.recoverMs).toBe(Number.POSITIVE_INFINITY);
  }, 120_000);
});
