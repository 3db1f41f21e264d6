import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';
import { redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';

/**
 * Rotating the HMAC key of code digests, through gateways sharing one Redis (each a replica):
 * a code issued before a rotation still verifies after it, on any replica; a code whose key
 * has been rotated out twice does not.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the key rotation tests: ${why}`);

describeWithRedis('code secret rotation across replicas', () => {
  let redis: RedisHandle;
  const gateways: TestGateway[] = [];
  beforeEach(async () => {
    redis = await startRedis({ throwaway: true });
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
    await redis.close();
  });

  const replica = async (env: Record<string, string> = {}) => {
    // No shared DingTalk call schedule: the replicas' clocks are moved apart below.
    const gw = await startGateway({
      STORE_URL: redis.url,
      STORE_PROBE_INTERVAL_MS: '100',
      DINGTALK_MAX_CALLS_PER_SECOND: '0',
      ...env,
    });
    gateways.push(gw);
    return gw;
  };
  /** Sends a code to `userId` through `gw` and reads it from that replica's sandbox inbox. */
  const sendCode = async (gw: TestGateway, userId: string) => {
    await gw.verification.sendCode({
      userId,
      scenario: Scenario.SCENARIO_LOGIN,
      dingtalkUserId: 'demo-alice',
      mobile: '',
      locale: '',
    });
    return latestCode(gw, 'demo-alice');
  };
  const verify = async (gw: TestGateway, userId: string, code: string) =>
    (await gw.verification.verifyCode({ userId, scenario: Scenario.SCENARIO_LOGIN, code })).result;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('CODE_SECRET_PREVIOUS keeps codes issued under the previous CODE_SECRET valid, and only that one', async () => {
    const [k1, k2, k3] = ['first-secret-0123456789', 'second-secret-0123456789', 'third-secret-0123456789'];
    const a = await replica({ CODE_SECRET: k1 });
    const before = await sendCode(a, 'u-before');
    const older = await sendCode(a, 'u-older');
    const b = await replica({ CODE_SECRET: k2, CODE_SECRET_PREVIOUS: k1 });
    expect(await verify(b, 'u-before', before)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    const after = await sendCode(b, 'u-after');
    // k1 is rotated out twice: its code is just wrong; k2's still verifies.
    const c = await replica({ CODE_SECRET: k3, CODE_SECRET_PREVIOUS: k2 });
    expect(await verify(c, 'u-older', older)).toBe(VerifyResult.VERIFY_RESULT_WRONG_CODE);
    expect(await verify(c, 'u-after', after)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
  });

  it('CODE_SECRET_GENERATION rotates the store-kept key once; running replicas adopt it before it signs', async () => {
    const a = await replica();
    const before = await sendCode(a, 'u-before');
    const older = await sendCode(a, 'u-older');
    // Two replicas start with generation 1 together: one rotation between them.
    const [b, b2] = await Promise.all([
      replica({ CODE_SECRET_GENERATION: '1' }),
      replica({ CODE_SECRET_GENERATION: '1' }),
    ]);
    expect(await verify(b, 'u-before', before)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    // Within the grace period new codes are still signed with the old key, so A, which has not
    // necessarily read the new one yet, accepts them.
    const early = await sendCode(b2, 'u-early');
    expect(await verify(a, 'u-early', early)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    // After it, with the new key; A has adopted it at a store probe meanwhile.
    for (const g of [a, b, b2]) g.advance(31_000);
    await sleep(400);
    const late = await sendCode(b, 'u-late');
    const late2 = await sendCode(b2, 'u-late2');
    expect(await verify(a, 'u-late', late)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(await verify(a, 'u-late2', late2)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(a.logs.some((l) => l.msg === 'adopted the rotated shared code secret')).toBe(true);
    const rotations = [b, b2].flatMap((g) =>
      g.logs.filter((l) => /^rotated the shared code secret/.test(String(l.msg))),
    );
    expect(rotations).toHaveLength(1);

    // Generation 2: the first key is rotated out twice; generation 1's codes still verify.
    const pending = await sendCode(a, 'u-pending');
    const c = await replica({ CODE_SECRET_GENERATION: '2' });
    expect(await verify(c, 'u-older', older)).toBe(VerifyResult.VERIFY_RESULT_WRONG_CODE);
    expect(await verify(c, 'u-pending', pending)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    // A replica restarted with an older generation adopts the newer key instead of rotating back.
    const stale = await replica({ CODE_SECRET_GENERATION: '1' });
    const fromC = await sendCode(c, 'u-from-c');
    expect(await verify(stale, 'u-from-c', fromC)).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
  }, 30_000);
});
