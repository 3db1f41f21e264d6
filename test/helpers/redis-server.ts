import { spawnSync } from 'node:child_process';
import { createClient } from '@redis/client';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { externalServer, freePort, type TestServer } from './net';
import { ownedServer } from './owned-server';

/** Redis keeps nothing on disk here: a restarted server comes back empty. */
export type RedisHandle = TestServer;

const hasRedisServer = () => spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Why Redis tests cannot run here, or undefined when they can. Synchronous so a test
 * file can choose between describe and describe.skip. `throwaway` demands a server this
 * process can stop (outage tests), which REDIS_URL cannot provide.
 */
export function redisAvailability(opts: { throwaway?: boolean } = {}): string | undefined {
  if (!opts.throwaway && process.env.REDIS_URL) return undefined;
  if (hasRedisServer()) return undefined;
  return opts.throwaway
    ? 'no redis-server binary on PATH to start a throwaway server for outage tests'
    : 'neither REDIS_URL nor a redis-server binary on PATH is available';
}

/** REDIS_URL when set (unless `throwaway`), otherwise a redis-server of its own on a free loopback port. */
export async function startRedis(opts: { throwaway?: boolean } = {}): Promise<RedisHandle> {
  const external = process.env.REDIS_URL;
  if (!opts.throwaway && external) {
    return externalServer('REDIS_URL', external);
  }
  const dir = mkdtempSync(join(tmpdir(), 'gateway-redis-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--requirepass', password, '--protected-mode', 'no');
  const server = ownedServer({
    command: 'redis-server',
    args,
    stream: 'stdout',
    ready: 'Ready to accept connections',
    timeoutMs: 20_000,
    dir,
  });
  await server.start();
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    password,
    throwaway: true,
    stop: server.stop,
    restart: server.start,
    close: server.close,
  };
}

/** Every key and value in the server, as text: for proving that something is stored nowhere. */
export async function dumpRedis(url: string): Promise<string> {
  const client = createClient({ url });
  await client.connect();
  try {
    const out: string[] = [];
    for await (const keys of client.scanIterator({ COUNT: 1000 })) {
      for (const key of ([] as string[]).concat(keys)) {
        const type = await client.type(key);
        const value =
          type === 'string'
            ? await client.get(key)
            : type === 'hash'
              ? await client.hGetAll(key)
              : type === 'zset'
                ? await client.zRange(key, 0, -1)
                : type === 'list'
                  ? await client.lRange(key, 0, -1)
                  : type === 'set'
                    ? await client.sMembers(key)
                    : `<${type}>`;
        out.push(`${key} = ${JSON.stringify(value)}`);
      }
    }
    return out.join('\n');
  } finally {
    await client.close();
  }
}
