import { inspect } from 'node:util';
import { createRedisStore } from '../../src/store/redis';
import type { Subject } from '../../src/verification/ports';
import {
  redisTopologyAvailability,
  startRedisCluster,
  startRedisSentinel,
  type RedisClusterHandle,
  type RedisSentinelHandle,
} from '../helpers/redis-topologies';
import { freshPrefix, redisFixture } from './fixtures';
import { describeStoreContract } from './store.contract';

/**
 * The shared contract on a Redis Cluster (three masters) and behind Sentinel (a master,
 * a replica, three sentinels), each started here on loopback ports.
 */
const skip = redisTopologyAvailability();
if (skip) console.warn(`skipping the Redis Cluster and Sentinel contracts: ${skip}`);

let cluster: Promise<RedisClusterHandle> | undefined;
let sentinel: Promise<RedisSentinelHandle> | undefined;
const clusterUp = () => (cluster ??= startRedisCluster());
const sentinelUp = () => (sentinel ??= startRedisSentinel());
afterAll(async () => {
  await Promise.all([(await cluster)?.close(), (await sentinel)?.close()]);
}, 30_000);
// Starting a set-up takes a few seconds; the first test pays for it.
jest.setTimeout(30_000);

for (const [name, up] of [
  ['a Redis Cluster', clusterUp],
  ['Redis behind Sentinel', sentinelUp],
] as const) {
  describe(`on ${name}`, () =>
    describeStoreContract('redis', async () => redisFixture((await up()).url), { skip }));
}

const describeLive = skip ? describe.skip : describe;
const subject: Subject = { userId: 'u-1', scenario: 'login' };
const record = { id: 'c1', digest: 'ab', recipient: 'dt-1', createdAt: 1, expiresAt: 2e12, maxAttempts: 5 };

describeLive('redis cluster specifics', () => {
  it('spreads users over the masters, runs each script on the owner of its keys, and survives SCRIPT FLUSH', async () => {
    const { url, ports, password } = await clusterUp();
    const store = await createRedisStore(url, { keyPrefix: freshPrefix() });
    try {
      expect(store.redis.topology).toBe('cluster');
      expect(store.redis.master().split(',')).toHaveLength(3);
      const users = Array.from({ length: 30 }, (_, i) => ({
        userId: `user-${i}`,
        scenario: 'login' as const,
      }));
      const rule = { cooldownMs: 0, windowMs: 60_000, maxInWindow: 5 };
      for (const u of users) {
        await store.saveCode(u, record, 60_000);
        const budget = [
          { subject: u, rule },
          { subject: { userId: u.userId, scenario: 'user_day' as const }, rule },
          { subject: { userId: u.userId, scenario: 'since_success' as const }, rule },
        ];
        expect((await store.reserveSends(budget, Date.now())).allowed).toBe(true);
      }
      // Every master answers for some of them: the scripts really ran on three nodes.
      const { createClient } = await import('@redis/client');
      const counts: number[] = [];
      for (const port of ports) {
        const c = createClient({ socket: { host: '127.0.0.1', port }, password });
        await c.connect();
        counts.push(Number(await c.sendCommand(['DBSIZE'])));
        await c.sendCommand(['SCRIPT', 'FLUSH']);
        await c.close();
      }
      expect(counts.filter((n) => n > 0)).toHaveLength(3);
      // The cached scripts are gone; EVALSHA falls back to EVAL on each node.
      for (const u of users) expect((await store.countAttempt(u)).state).toBe('counted');
      expect(await store.consumeCode(users[0], 'c1')).toBe(true);
      expect(await store.consumeCode(users[0], 'c1')).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('keeps the password out of the error when a seed node is wrong', async () => {
    const { ports } = await clusterUp();
    const err = await createRedisStore(`redis+cluster://:hunter2@127.0.0.1:${ports[0]}`, {
      timeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(inspect(err, { depth: 5 })).not.toContain('hunter2');
  });
});

describeLive('redis sentinel specifics', () => {
  it('names the master it found through the sentinels', async () => {
    const { url, masterPort } = await sentinelUp();
    const store = await createRedisStore(url, { keyPrefix: freshPrefix() });
    try {
      expect(store.redis.topology).toBe('sentinel');
      expect(store.redis.master()).toBe(`127.0.0.1:${masterPort}`);
      await store.saveCode(subject, record, 60_000);
      expect((await store.countAttempt(subject)).state).toBe('counted');
    } finally {
      await store.close();
    }
  });
});
