import { status } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import type { GetConfigResponse, UpdateConfigRequest } from '../../src/gen/dingtalk/gateway/v1/verification';
import { simulatorEnv } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';
import { dumpRedis, redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';
import { startReplicas, startSidecar, type Replicas, type Sidecar } from '../helpers/sidecar';

/**
 * Settings changed through one replica are in force on the other within 2 s, without a
 * restart; the AppSecret is sealed in Redis and appears in no key, log line or response.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the runtime settings replica tests: ${why}`);

const ADMIN = 'admin-token-for-the-replica-test';
const CALLER = 'caller-token-for-the-replica-test';
const asAdmin = { metadata: { authorization: `Bearer ${ADMIN}` } };
const asCaller = { metadata: { authorization: `Bearer ${CALLER}` } };
const KEY = 'a-config-encryption-key-of-32-characters!';

const scenario = (s: Scenario, over: object = {}) => ({
  scenario: s,
  enabled: true,
  codeLength: 0,
  ttlSeconds: 0,
  maxAttempts: 0,
  resendIntervalSeconds: 0,
  maxSendsPerHour: 0,
  templates: [],
  ...over,
});
const change = (version: number, mask: string[], settings: object): Partial<UpdateConfigRequest> => ({
  version,
  updateMask: mask,
  settings: { enabled: true, agentId: 0, appKey: '', appSecret: '', scenarios: [], ...settings },
});

/** Polls `check` on `via` until it holds; resolves with the milliseconds it took. */
async function until(via: Sidecar, check: (c: GetConfigResponse) => boolean, limitMs = 2000) {
  const started = Date.now();
  for (;;) {
    if (check(await via.verification.getConfig({}, asCaller))) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`not in force within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describeWithRedis('runtime settings on two replicas sharing one Redis', () => {
  let redis: RedisHandle;
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let replicas: Replicas;
  const propagation: number[] = [];

  beforeAll(async () => {
    replicas = await startReplicas({
      AUTH_TOKEN: CALLER,
      ADMIN_TOKEN: ADMIN,
      CONFIG_ENCRYPTION_KEY: KEY,
    });
    ({ redis, sim, a, b } = replicas);
  }, 60_000);

  afterAll(async () => {
    console.info(`runtime settings propagation, A → B: ${propagation.join(', ')} ms`);
    await replicas?.stop();
  });

  /** The version both replicas are at (a change through B reaches A at A's next poll). */
  const version = async () => {
    for (;;) {
      const [va, vb] = await Promise.all(
        [a, b].map(async (r) => (await r.verification.getConfig({}, asCaller)).version),
      );
      if (va === vb) return va;
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('a scenario switched off through A refuses SendCode on B within 2 s', async () => {
    const v = await version();
    await a.verification.updateConfig(
      change(v, ['scenarios.login.enabled'], {
        scenarios: [scenario(Scenario.SCENARIO_LOGIN, { enabled: false })],
      }),
      asAdmin,
    );
    propagation.push(await until(b, (c) => c.version === v + 1));
    const err = await rpcError(
      b.verification.sendCode(
        { userId: 'u-1', scenario: Scenario.SCENARIO_LOGIN, dingtalkUserId: 'demo-alice' },
        asCaller,
      ),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('scenario login is disabled');
  });

  it('a template changed through B is what A sends within 2 s', async () => {
    const v = await version();
    await b.verification.updateConfig(
      change(v, ['scenarios.two_factor.templates'], {
        scenarios: [
          scenario(Scenario.SCENARIO_TWO_FACTOR, {
            templates: [{ locale: 'zh-CN', title: 'Code', text: 'replica template **{code}**' }],
          }),
        ],
      }),
      asAdmin,
    );
    propagation.push(await until(a, (c) => c.version === v + 1));
    await a.verification.sendCode(
      { userId: 'u-2', scenario: Scenario.SCENARIO_TWO_FACTOR, dingtalkUserId: 'demo-bob' },
      asCaller,
    );
    expect(sim.inbox.at(-1)!.text).toMatch(/^replica template \*\*\d{6}\*\*/);
  });

  it('the gateway switched off through A refuses sends on B, and on again', async () => {
    const v = await version();
    await a.verification.updateConfig(change(v, ['enabled'], { enabled: false }), asAdmin);
    propagation.push(await until(b, (c) => !c.enabled));
    const err = await rpcError(
      b.verification.sendCode(
        { userId: 'u-3', scenario: Scenario.SCENARIO_RISK_WARNING, dingtalkUserId: 'demo-bob' },
        asCaller,
      ),
    );
    expect(err.details).toBe('the DingTalk gateway is disabled');
    await a.verification.updateConfig({ version: v + 1, revertMask: ['enabled'] }, asAdmin);
    propagation.push(await until(b, (c) => c.enabled));
  });

  it('two administrators changing from one version: exactly one wins, the other gets ABORTED', async () => {
    const v = await version();
    const results = await Promise.allSettled([
      a.verification.updateConfig(
        change(v, ['scenarios.password_reset.enabled'], {
          scenarios: [scenario(Scenario.SCENARIO_PASSWORD_RESET, { enabled: false })],
        }),
        asAdmin,
      ),
      b.verification.updateConfig(
        change(v, ['scenarios.password_reset.max_attempts'], {
          scenarios: [scenario(Scenario.SCENARIO_PASSWORD_RESET, { maxAttempts: 3 })],
        }),
        asAdmin,
      ),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason.code).toBe(status.ABORTED);
  });

  it("a wrong AppSecret is refused with DingTalk's errcode and saves nothing; a right one is sealed in Redis", async () => {
    const v = await version();
    const wrong = 'wrong-secret-that-must-never-be-stored';
    const err = await rpcError(
      a.verification.updateConfig(change(v, ['app_secret'], { appSecret: wrong }), asAdmin),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.metadata.get('dingtalk-errcode')).toEqual([]); // the new API refuses by name, not errcode
    expect(err.details).toContain('invalidClientIdOrSecret');
    expect(await version()).toBe(v);

    // The administrator reset the secret on the open platform; B must read the new one out of Redis.
    const right = 'rotated-secret-for-the-replicas-0001';
    sim.rotateAppSecret(right);
    await a.verification.updateConfig(change(v, ['app_secret'], { appSecret: right }), asAdmin);
    propagation.push(await until(b, (c) => c.version === v + 1));
    // B fetches a token with the secret it read out of Redis, and sends.
    await b.verification.sendCode(
      { userId: 'u-4', scenario: Scenario.SCENARIO_PASSWORD_RECOVERY, dingtalkUserId: 'demo-alice' },
      asCaller,
    );

    const dump = await dumpRedis(redis.url);
    for (const secret of [right, wrong]) {
      expect(dump).not.toContain(secret);
      expect(a.output()).not.toContain(secret);
      expect(b.output()).not.toContain(secret);
    }
    expect(dump).toMatch(/sealed\\+":\\+"v1\./);
    expect(JSON.stringify(await b.verification.getConfig({}, asCaller))).not.toContain(right);
  });
});

describeWithRedis('a shared store without CONFIG_ENCRYPTION_KEY', () => {
  let redis: RedisHandle;
  let sim: Simulator;
  let gw: Sidecar;
  beforeAll(async () => {
    redis = await startRedis({ throwaway: true });
    sim = await startSimulator();
    gw = await startSidecar({
      ...simulatorEnv(sim),
      STORE_URL: redis.url,
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.stop();
    await sim?.close();
    await redis?.close();
  });

  it('refuses to store an AppSecret, saying what to set, and still takes other changes', async () => {
    const err = await rpcError(
      gw.verification.updateConfig(change(0, ['app_secret'], { appSecret: sim.appSecret }), asAdmin),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('CONFIG_ENCRYPTION_KEY');
    const res = await gw.verification.updateConfig(change(0, ['enabled'], { enabled: false }), asAdmin);
    expect(res.config!.version).toBe(1);
  });
});
