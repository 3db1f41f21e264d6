import { inspect } from 'node:util';
import { isGatewayFailure } from '../../src/domain/errors';
import { createRedisStore } from '../../src/store/redis';
import type { Subject } from '../../src/verification/ports';
import { freePort, freezableProxy } from '../helpers/net';
import { redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';
import { expectUnavailable, freshPrefix, operationsOf, pendingDelivery, redisFixture } from './fixtures';
import { describeStoreContract } from './store.contract';

const skip = redisAvailability();
let shared: Promise<RedisHandle> | undefined;
const server = () => (shared ??= startRedis());
afterAll(async () => {
  await (await shared)?.close();
});
describeStoreContract('redis', async () => redisFixture((await server()).url), { skip });

const subject: Subject = { userId: 'u-1', scenario: 'login' };
const record = { id: 'c1', digest: 'ab', recipient: 'dt-1', createdAt: 1, expiresAt: 2, maxAttempts: 5 };

const outageSkip = redisAvailability({ throwaway: true });
const describeOutage = outageSkip === undefined ? describe : describe.skip;

describeOutage('redis store outage', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    redis = await startRedis({ throwaway: true });
  });
  afterAll(() => redis.close());

  it('keys every record under its prefix and expires codes and histories with their records', async () => {
    const store = await createRedisStore(redis.url, { keyPrefix: 'p:' });
    try {
      await store.saveCode(subject, record, 60_000);
      await store.reserveSend(subject, { cooldownMs: 0, windowMs: 30_000, maxInWindow: 2 }, Date.now());
      await store.putBinding({ userId: 'u-1', dingtalkUserId: 'dt-1', source: 'mobile', boundAt: 1 });
      await store.getOrCreateSecret('hmac', 'x');
      await store.putDelivery(pendingDelivery, 45_000);
      const raw = await rawClient(redis.url);
      try {
        const keys = ((await raw.sendCommand(['KEYS', '*'])) as string[]).sort();
        expect(keys).toEqual([
          'p:binding::u-1',
          'p:delivery::v-1',
          'p:secret:hmac',
          // Hash-tagged by user (src/store/redis-keys.ts), the same on a cluster.
          'p:{u:u-1}:code:login',
          'p:{u:u-1}:send:login',
        ]);
        const ttl = async (k: string) => Number(await raw.sendCommand(['PTTL', k]));
        expect(await ttl('p:{u:u-1}:code:login')).toBeGreaterThan(50_000);
        expect(await ttl('p:{u:u-1}:code:login')).toBeLessThanOrEqual(60_000);
        expect(await ttl('p:{u:u-1}:send:login')).toBeLessThanOrEqual(30_000);
        expect(await ttl('p:{u:u-1}:send:login')).toBeGreaterThan(0);
        expect(await ttl('p:delivery::v-1')).toBeLessThanOrEqual(45_000);
        expect(await ttl('p:delivery::v-1')).toBeGreaterThan(0);
        expect(await ttl('p:secret:hmac')).toBe(-1);
      } finally {
        await raw.close();
      }
    } finally {
      await store.close();
    }
  });

  it('fails fast with store_unavailable on every operation while Redis is down, and recovers by itself', async () => {
    const warnings: string[] = [];
    const store = await createRedisStore(redis.url, {
      keyPrefix: freshPrefix(),
      logger: { warn: (o, m) => warnings.push(`${m} ${inspect(o)}`) },
    });
    try {
      const operations = operationsOf(store);
      for (const [, op] of operations) await op();
      await redis.stop();
      for (const [name, op] of operations)
        expect(await expectUnavailable(name, op, redis.password)).toBeLessThan(1000);
      expect(warnings.join('\n')).not.toContain(redis.password);

      await redis.restart();
      let back = false;
      for (let i = 0; i < 60 && !back; i++) {
        back = await store.ping().then(
          () => true,
          () => new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
        );
      }
      expect(back).toBe(true);
      for (const [, op] of operations) await op();
    } finally {
      await store.close();
    }
  }, 20_000);

  it('refuses to start, naming no password, when nothing listens', async () => {
    const port = await freePort();
    const started = Date.now();
    const err = await createRedisStore(`redis://:hunter2@127.0.0.1:${port}`, { timeoutMs: 500 }).catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isGatewayFailure(err) && err.detail.kind).toBe('store_unavailable');
    expect(inspect(err, { depth: 5 })).not.toContain('hunter2');
  });

  it('gives up on a server that stops answering after its command timeout', async () => {
    const target = new URL(redis.url);
    const proxy = await freezableProxy(Number(target.port));
    target.port = String(proxy.port);
    const store = await createRedisStore(target.toString(), { keyPrefix: freshPrefix(), timeoutMs: 300 });
    try {
      await store.ping();
      proxy.freeze();
      for (const [name, op] of operationsOf(store).slice(0, 5)) {
        expect(await expectUnavailable(name, op, redis.password)).toBeLessThan(1500);
      }
    } finally {
      proxy.close();
      await store.close();
    }
  });
});

/** A bare client for looking at what the store wrote. */
async function rawClient(url: string) {
  const { createClient } = await import('@redis/client');
  const client = createClient({ url });
  await client.connect();
  return client;
}
