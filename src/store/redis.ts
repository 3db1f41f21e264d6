import { createHash } from 'node:crypto';
import KeyvRedis from '@keyv/redis';
import { Keyv } from 'keyv';
import type { Binding } from '../domain/binding';
import type { AttemptSnapshot } from '../domain/code';
import type { DeliveryRecord } from '../domain/delivery';
import type { LoginState } from '../domain/login';
import { storeUnavailable } from '../domain/errors';
import type { SendDecision } from '../domain/policy';
import type { StoredSettings } from '../domain/settings';
import type { SendSubject, VerificationStore } from '../verification/ports';
import { subjectKey, toMicros } from './keys';
import { keyvBindings, type Guard } from './keyv-bindings';
import { passwordForms, scrub, summary } from './redact';
import { redisRecalls } from './redis-recalls';
import * as lua from './redis-scripts';

export interface RedisStoreOptions {
  /** Receives connection errors while Redis is away (never the password). */
  logger?: { warn(o: object, m: string): void };
  /** Prefix of every key. Default `dingtalk-gateway:`. */
  keyPrefix?: string;
  /** Bound on connecting and on each command, so an outage fails fast. Default 2000 ms. */
  timeoutMs?: number;
}

/** What the store needs of the node-redis client the Keyv adapter owns. */
interface RawClient {
  sendCommand(args: string[]): Promise<unknown>;
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
): Promise<VerificationStore> {
  const secrets = passwordForms(url, 'redis');
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

  const adapter = new KeyvRedis(
    {
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        // Retry forever, at most a second apart, with jitter so replicas do not reconnect in step.
        reconnectStrategy: (retries: number) =>
          Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 100),
      },
    },
    { throwOnConnectError: true, throwOnErrors: true, connectionTimeout: timeoutMs },
  );
  adapter.on('error', warn);

  let client: RawClient;
  try {
    client = (await adapter.getClient()) as unknown as RawClient;
  } catch (e) {
    await adapter.disconnect(true).catch(() => undefined);
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
  /** EVALSHA, falling back to EVAL (which caches the script) the first time a server sees it. */
  const run = async (script: string, keys: string[], args: Array<string | number>): Promise<unknown> => {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    try {
      return await client.sendCommand(['EVALSHA', sha(script), ...tail]);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      return client.sendCommand(['EVAL', script, ...tail]);
    }
  };
  const guard: Guard = async (operation, work) => {
    // The Keyv adapter would reconnect a closed client on its next call.
    if (closed) throw storeUnavailable(operation, new Error('the Redis store is closed'));
    let timer: NodeJS.Timeout | undefined;
    // node-redis's own command timeout does not fire once a command is on the wire, so a
    // server that stops answering is bounded here; a reply that comes later is dropped.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([work(), timeout]);
    } catch (e) {
      throw storeUnavailable(operation, clean(e));
    } finally {
      clearTimeout(timer);
    }
  };
  const sendKey = (s: SendSubject) => `${prefix}send:${subjectKey(s)}`;
  const codeKey = (s: SendSubject) => `${prefix}code:${subjectKey(s)}`;

  return {
    kind: 'redis',

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

    countAttempt: (subject) =>
      guard('countAttempt', async (): Promise<AttemptSnapshot> => {
        const r = (await run(lua.COUNT_ATTEMPT, [codeKey(subject)], [])) as string[];
        if (r[0] === 'missing') return { state: 'missing' };
        if (r[0] === 'used') return { state: 'used', id: r[1] };
        const [, id, digest, recipient, createdAt, expiresAt, maxAttempts, attempts] = r;
        return {
          state: 'counted',
          record: {
            id,
            digest,
            recipient,
            createdAt: Number(createdAt),
            expiresAt: Number(expiresAt),
            maxAttempts: Number(maxAttempts),
          },
          attempts: Number(attempts),
        };
      }),

    consumeCode: (subject, id) =>
      guard('consumeCode', async () => (await run(lua.CONSUME_CODE, [codeKey(subject)], [id])) === 1),

    ...keyvBindings(bindings, guard),

    putDelivery: (record, retainMs) =>
      guard('putDelivery', async () => {
        await deliveries.set(record.verificationId, record, retainMs);
      }),

    getDelivery: (id) => guard('getDelivery', async () => (await deliveries.get(id)) ?? undefined),

    ...redisRecalls(run, guard, prefix),

    getOrCreateSecret: (name, candidate) =>
      guard(
        'getOrCreateSecret',
        async () => (await run(lua.GET_OR_CREATE_SECRET, [`${prefix}secret:${name}`], [candidate])) as string,
      ),

    readSettings: () =>
      guard('readSettings', async () => {
        const doc = (await client.sendCommand(['HGET', `${prefix}settings`, 'doc'])) as string | null;
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
        await client.sendCommand(['SET', `${prefix}login:${key}`, JSON.stringify(record), 'PX', px]);
      }),

    takeLoginState: (key) =>
      guard('takeLoginState', async () => {
        const raw = (await run(lua.TAKE_LOGIN_STATE, [`${prefix}login:${key}`], [])) as string | null;
        return raw === null ? undefined : (JSON.parse(raw) as LoginState);
      }),

    ping: () =>
      guard('ping', async () => {
        await client.sendCommand(['PING']);
      }),

    close: () => {
      closed ??= adapter.disconnect(true).catch(() => undefined);
      return closed;
    },
  };
}
