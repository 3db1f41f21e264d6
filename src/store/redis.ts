import { createHash } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Binding } from '../domain/binding';
import type { DeliveryRecord } from '../domain/delivery';
import type { LoginState } from '../domain/login';
import { storeUnavailable } from '../domain/errors';
import type { SendDecision, SendsDecision } from '../domain/policy';
import type { StoredSettings } from '../domain/settings';
import type { SendSubject, Subject, VerificationStore } from '../verification/ports';
import { toMicros } from './keys';
import { keyvBindings, type Guard } from './keyv-bindings';
import { scrub, summary } from './redact';
import { redisIdempotency } from './redis-idempotency';
import { redisMobiles } from './redis-mobiles';
import { redisFailures } from './redis-failures';
import { redisRecalls } from './redis-recalls';
import * as lua from './redis-scripts';
import { openRedis, parseRedisUrl, type RedisTopology } from './redis-topology';
import { redisKeys } from './redis-keys';
import { createDeadlines } from '../deadlines';

export interface RedisStoreOptions {
  /** Receives connection errors while Redis is away (never the password). */
  logger?: { warn(o: object, m: string): void };
  /** Prefix of every key. Default `dingtalk-gateway:`. */
  keyPrefix?: string;
  /** Bound on connecting and on each command, so an outage fails fast. Default 2000 ms. */
  timeoutMs?: number;
  /**
   * After counting an attempt and after consuming a code, wait until this many replicas
   * have the write (Redis `WAIT`), else answer store_unavailable: a failover then cannot
   * lose an approval or a counted attempt that was answered. Default 0 (no waiting).
   */
  waitReplicas?: number;
  /** How long `WAIT` may take. Default 500 ms; keep it under `timeoutMs`. */
  waitTimeoutMs?: number;
}

/** What the health probe and metrics may learn of a Redis store: its topology and master now. */
export interface RedisStoreInfo {
  topology: RedisTopology;
  master(): string;
}

/**
 * A VerificationStore on Redis, for several replicas sharing one server. Bindings go
 * through Keyv (@keyv/redis); every operation that must be atomic across replicas is a
 * Lua script (redis-scripts.ts) run on the adapter's own client. The client has no
 * offline queue and every operation is bounded by `timeoutMs`, so while Redis is away every call fails at
 * once with store_unavailable instead of waiting; it reconnects by itself. Codes and
 * send histories expire with their records (PEXPIRE).
 */
export async function createRedisStore(
  url: string,
  options: RedisStoreOptions = {},
): Promise<VerificationStore & { redis: RedisStoreInfo }> {
  const target = parseRedisUrl(url);
  const secrets = target.secrets;
  const clean = (e: unknown) => scrub(e, secrets);
  const timeoutMs = options.timeoutMs ?? 2000;
  const prefix = options.keyPrefix ?? 'dingtalk-gateway:';
  let warnedAt = 0;
  const warn = (e: unknown) => {
    // The client reports every failed reconnect; one line per 10 s is enough.
    if (Date.now() - warnedAt < 10_000) return;
    warnedAt = Date.now();
    options.logger?.warn({ err: summary(clean(e)) }, 'Redis connection failed; reconnecting');
  };

  const connection = openRedis(target, { timeoutMs });
  const adapter = new KeyvRedis(connection.client as never, {
    throwOnConnectError: true,
    throwOnErrors: true,
    connectionTimeout: timeoutMs,
  });
  adapter.on('error', warn);

  let client: unknown;
  try {
    client = await adapter.getClient();
  } catch (e) {
    await adapter.disconnect(true).catch(() => undefined);
    connection.destroy();
    throw storeUnavailable('setup', clean(e));
  }

  // A Keyv namespace lives on its adapter, so each Keyv gets an adapter of its own, all
  // on the one client. The adapter prefixes the namespace itself (`<namespace>::<key>`),
  // so Keyv must not add it again.
  const keyvOn = <T>(name: string) => {
    const store = name === 'binding' ? adapter : new KeyvRedis(client as never, { throwOnErrors: true });
    const keyv = new Keyv<T>({
      store,
      namespace: `${prefix}${name}`,
      useKeyPrefix: false,
      throwOnErrors: true,
    });
    // Failures are thrown to the caller (throwOnErrors); the event is a duplicate.
    keyv.on('error', () => undefined);
    return keyv;
  };
  const bindings = keyvOn<Binding>('binding');
  const deliveries = keyvOn<DeliveryRecord>('delivery');

  let closed: Promise<void> | undefined;
  const scripts = new Map<string, string>();
  const sha = (script: string) => {
    let h = scripts.get(script);
    if (h === undefined) scripts.set(script, (h = createHash('sha1').update(script).digest('hex')));
    return h;
  };
  /**
   * EVALSHA, falling back to EVAL (which caches the script) the first time a server sees it:
   * after a restart, a SCRIPT FLUSH or a failover to a replica. On a cluster both go to the
   * node owning the first key; every script's keys share its slot (redis-keys.ts).
   */
  const run = async (script: string, keys: string[], args: Array<string | number>): Promise<unknown> => {
    // One array, built once: this is every store call's path (VerifyCode's included).
    const n = keys.length;
    const command = new Array<string>(3 + n + args.length);
    command[0] = 'EVALSHA';
    command[1] = sha(script);
    command[2] = String(n);
    for (let i = 0; i < n; i++) command[3 + i] = keys[i];
    for (let i = 0; i < args.length; i++) command[3 + n + i] = String(args[i]);
    try {
      return await connection.send(keys[0], command);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      command[0] = 'EVAL';
      command[1] = script;
      return connection.send(keys[0], command);
    }
  };
  /** A plain command; every one the store sends names its key first (`GET key …`). */
  const raw = (args: string[]) => connection.send(args[1], args);
  const waitReplicas = options.waitReplicas ?? 0;
  const waitTimeoutMs = options.waitTimeoutMs ?? 500;
  /** `run`, then, with `waitReplicas`, WAIT on the same connection until that many replicas have it. */
  const runWaited: typeof run =
    waitReplicas === 0
      ? run
      : async (script, keys, args) => {
          const out = await run(script, keys, args);
          const acked = Number(
            await connection.send(keys[0], ['WAIT', String(waitReplicas), String(waitTimeoutMs)]),
          );
          if (acked < waitReplicas)
            throw new Error(
              `the write reached ${acked} of ${waitReplicas} replicas within ${waitTimeoutMs} ms`,
            );
          return out;
        };
  const keys = redisKeys(prefix);
  // node-redis's own command timeout does not fire once a command is on the wire, so a server
  // that stops answering is bounded here; a reply that comes later is dropped.
  const deadlines = createDeadlines(
    timeoutMs,
    () => new Error(`no answer from Redis within ${timeoutMs} ms`),
  );
  const guard: Guard = (operation, work) => {
    const failure = (cause: unknown) => storeUnavailable(operation, clean(cause));
    // The Keyv adapter would reconnect a closed client on its next call.
    if (closed) return Promise.reject(failure(new Error('the Redis store is closed')));
    let started;
    try {
      started = work();
    } catch (e) {
      return Promise.reject(failure(e));
    }
    return deadlines.bound(started, failure);
  };
  const sendKey = (s: SendSubject) => keys.send(s);
  const codeKey = (s: Subject) => keys.code(s);

  return {
    kind: 'redis',
    redis: { topology: target.topology, master: connection.master },

    reserveSend: (subject, rule, now) =>
      guard('reserveSend', async (): Promise<SendDecision> => {
        const args = [now, rule.cooldownMs, rule.windowMs, rule.maxInWindow];
        const [allowed, reason, retryAt, history] = (await run(
          lua.RESERVE_SEND,
          [sendKey(subject)],
          args,
        )) as [number, string, string, string];
        return allowed === 1
          ? { allowed: true, history: history.split(',').map(Number), resendAt: Number(retryAt) }
          : { allowed: false, reason: reason as 'cooldown' | 'quota', retryAt: Number(retryAt) };
      }),

    releaseSend: (subject, at) =>
      guard('releaseSend', async () => {
        await run(lua.RELEASE_SEND, [sendKey(subject)], [at]);
      }),

    reserveSends: (reservations, now) =>
      guard('reserveSends', async (): Promise<SendsDecision> => {
        if (reservations.length === 0) return { allowed: true, resendAt: now };
        const keys = reservations.map((r) => sendKey(r.subject));
        const args = [
          now,
          ...reservations.flatMap(({ rule }) => [rule.cooldownMs, rule.windowMs, rule.maxInWindow]),
        ];
        const [allowed, index, reason, at] = (await run(lua.RESERVE_SENDS, keys, args)) as [
          number,
          number,
          string,
          string,
        ];
        return allowed === 1
          ? { allowed: true, resendAt: Number(at) }
          : { allowed: false, index, reason: reason as 'cooldown' | 'quota', retryAt: Number(at) };
      }),

    clearSends: (subject) =>
      guard('clearSends', async () => {
        await raw(['DEL', sendKey(subject)]);
      }),

    takeSlot: (name, intervalMs, now, maxWaitMs) =>
      guard('takeSlot', async () => {
        const args = [toMicros(now), toMicros(intervalMs), toMicros(maxWaitMs)];
        const [reserved, startAt] = (await run(lua.TAKE_SLOT, [`${prefix}slot:${name}`], args)) as [
          number,
          string,
        ];
        return { reserved: reserved === 1, startAt: Number(startAt) / 1000 };
      }),

    saveCode: (subject, record, retainMs) =>
      guard('saveCode', async () => {
        const { id, digest, recipient, createdAt, expiresAt, maxAttempts } = record;
        const args = [
          id,
          digest,
          recipient,
          createdAt,
          expiresAt,
          maxAttempts,
          Math.max(1, Math.ceil(retainMs)),
        ];
        await run(lua.SAVE_CODE, [codeKey(subject)], args);
      }),

    discardCode: (subject, id) =>
      guard('discardCode', async () => {
        await run(lua.DISCARD_CODE, [codeKey(subject)], [id]);
      }),

    // countAttempt, lockedUntil, consumeCode: a code with its subject's failures.
    ...redisFailures(runWaited, raw, guard, keys),

    ...keyvBindings(bindings, guard),

    putDelivery: (record, retainMs) =>
      guard('putDelivery', async () => {
        await deliveries.set(record.verificationId, record, retainMs);
      }),

    getDelivery: (id) => guard('getDelivery', async () => (await deliveries.get(id)) ?? undefined),

    ...redisRecalls(run, guard, keys),

    ...redisIdempotency(run, raw, guard, prefix),

    ...redisMobiles(raw, guard, prefix),

    getOrCreateSecret: (name, candidate) =>
      guard(
        'getOrCreateSecret',
        async () => (await run(lua.GET_OR_CREATE_SECRET, [`${prefix}secret:${name}`], [candidate])) as string,
      ),

    replaceSecret: (name, expected, next) =>
      guard(
        'replaceSecret',
        async () => (await run(lua.REPLACE_SECRET, [`${prefix}secret:${name}`], [expected, next])) as string,
      ),

    readSettings: () =>
      guard('readSettings', async () => {
        const doc = (await raw(['HGET', `${prefix}settings`, 'doc'])) as string | null;
        return doc === null ? undefined : (JSON.parse(doc) as StoredSettings);
      }),

    writeSettings: (expectedVersion, next) =>
      guard(
        'writeSettings',
        async () =>
          (await run(
            lua.WRITE_SETTINGS,
            [`${prefix}settings`],
            [expectedVersion, next.version, JSON.stringify(next)],
          )) === 1,
      ),

    putLoginState: (key, record, retainMs) =>
      guard('putLoginState', async () => {
        const px = String(Math.max(1, Math.ceil(retainMs)));
        await raw(['SET', `${prefix}login:${key}`, JSON.stringify(record), 'PX', px]);
      }),

    takeLoginState: (key) =>
      guard('takeLoginState', async () => {
        const raw = (await run(lua.TAKE_LOGIN_STATE, [`${prefix}login:${key}`], [])) as string | null;
        return raw === null ? undefined : (JSON.parse(raw) as LoginState);
      }),

    ping: () =>
      guard('ping', async () => {
        await raw(['PING']);
      }),

    close: () => {
      closed ??= adapter
        .disconnect(true)
        .catch(() => undefined)
        .finally(() => connection.destroy());
      return closed;
    },
  };
}
