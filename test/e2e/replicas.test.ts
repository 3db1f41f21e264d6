import { status } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { healthStatus, rpcError } from '../helpers/grpc-client';
import { simulatorEnv } from '../helpers/gateway';
import { redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';
import { startSidecar, type Sidecar } from '../helpers/sidecar';

/**
 * Two sidecar processes sharing one Redis behave like one: a code sent through A
 * verifies through B, attempts and single use are counted across both, the
 * cooldown holds across both, and a restart loses nothing.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the two-replica tests: ${why}`);

describeWithRedis('two replicas on one Redis', () => {
  let redis: RedisHandle;
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await startRedis({ throwaway: true });
    sim = await startSimulator();
    env = {
      ...simulatorEnv(sim),
      STORE_URL: redis.url,
      STORE_PROBE_INTERVAL_MS: '200',
      LOG_LEVEL: 'info', // the helper waits for the info line 'listening on'
    };
    [a, b] = await Promise.all([startSidecar(env), startSidecar(env)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await sim?.close();
    await redis?.close();
  });

  const send = (via: Sidecar, userId: string, scenario = Scenario.SCENARIO_LOGIN) =>
    via.verification.sendCode({ userId, scenario, dingtalkUserId: 'demo-alice', mobile: '', locale: '' });
  const verify = (via: Sidecar, userId: string, code: string, scenario = Scenario.SCENARIO_LOGIN) =>
    via.verification.verifyCode({ userId, scenario, code });
  const codeOf = (verificationId: string) => {
    const m = sim.inbox.find((x) => x.text.includes(verificationId.slice(0, 8)));
    return /\*\*(\d+)\*\*/.exec(m!.text)![1];
  };

  it('a code sent through A verifies through B (the HMAC secret is shared through the store)', async () => {
    const sent = await send(a, 'u-cross');
    expect((await verify(b, 'u-cross', codeOf(sent.verificationId))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    expect((await verify(a, 'u-cross', codeOf(sent.verificationId))).result).toBe(
      VerifyResult.VERIFY_RESULT_ALREADY_USED,
    );
  });

  it('200 concurrent wrong guesses over A and B are counted exactly', async () => {
    const sent = await send(a, 'u-brute');
    const code = codeOf(sent.verificationId);
    const guesses = Array.from({ length: 200 }, (_, i) =>
      String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'),
    );
    const results = await Promise.all(guesses.map((g, i) => verify(i % 2 ? a : b, 'u-brute', g)));
    const wrong = results.filter((r) => r.result === VerifyResult.VERIFY_RESULT_WRONG_CODE);
    expect(wrong.map((r) => r.attemptsRemaining).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(results.filter((r) => r.result === VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS)).toHaveLength(
      195,
    );
    expect((await verify(b, 'u-brute', code)).result).toBe(VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS);
  });

  it('50 concurrent correct submissions over both replicas approve exactly one', async () => {
    const sent = await send(b, 'u-double');
    const code = codeOf(sent.verificationId);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => verify(i % 2 ? a : b, 'u-double', code)),
    );
    expect(results.filter((r) => r.result === VerifyResult.VERIFY_RESULT_APPROVED)).toHaveLength(1);
  });

  it('the resend cooldown holds across replicas', async () => {
    await send(a, 'u-cool', Scenario.SCENARIO_TWO_FACTOR);
    const err = await rpcError(send(b, 'u-cool', Scenario.SCENARIO_TWO_FACTOR));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/retry in \d+ s/);
  });

  it('a stored code survives a restart of the sidecar that sent it', async () => {
    const sent = await send(a, 'u-restart');
    expect(await a.stop()).toBe(0);
    a = await startSidecar(env);
    expect((await verify(a, 'u-restart', codeOf(sent.verificationId))).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
  }, 30_000);

  /** Polls the sidecar's health (bounded) until it reports `want`. */
  const healthBecomes = async (via: Sidecar, want: string) => {
    let seen = '';
    for (let i = 0; i < 100 && seen !== want; i++) {
      seen = await healthStatus(via.address);
      if (seen !== want) await new Promise((r) => setTimeout(r, 100));
    }
    return seen;
  };

  it('with Redis down, calls fail fast with UNAVAILABLE and health turns NOT_SERVING; both recover by themselves', async () => {
    await redis.stop();
    const started = Date.now();
    const err = await rpcError(send(a, 'u-outage'));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await rpcError(verify(b, 'u-outage', '123456'))).code).toBe(status.UNAVAILABLE);
    expect(sim.inbox.filter((m) => m.userid === 'demo-alice' && m.at > started)).toHaveLength(0);
    expect(await healthBecomes(a, 'NOT_SERVING')).toBe('NOT_SERVING');
    expect(await healthBecomes(b, 'NOT_SERVING')).toBe('NOT_SERVING');

    // The restarted Redis is empty (it keeps nothing on disk): the replicas put their
    // shared HMAC key back, so a replica started now agrees with them on codes.
    await redis.restart();
    expect(await healthBecomes(a, 'SERVING')).toBe('SERVING');
    expect(await healthBecomes(b, 'SERVING')).toBe('SERVING');
    const c = await startSidecar(env);
    try {
      const sent = await send(c, 'u-back');
      expect((await verify(a, 'u-back', codeOf(sent.verificationId))).result).toBe(
        VerifyResult.VERIFY_RESULT_APPROVED,
      );
    } finally {
      await c.stop();
    }
  }, 30_000);
});
