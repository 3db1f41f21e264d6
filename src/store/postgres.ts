import { KeyvPostgres } from '@keyv/postgres';
import { Keyv } from 'keyv';
import { Pool } from 'pg';
import type { StoredSettings } from '../domain/settings';
import type { Binding } from '../domain/binding';
import type { DeliveryRecord } from '../domain/delivery';
import type { LoginState } from '../domain/login';
import { storeUnavailable } from '../domain/errors';
import type { SendDecision, SendsDecision } from '../domain/policy';
import type { SendSubject, VerificationStore } from '../verification/ports';
import { toMicros } from './keys';
import { keyvBindings, type Guard } from './keyv-bindings';
import { passwordForms, scrub, summary } from './redact';
import { postgresFailures } from './postgres-failures';
import { postgresIdempotency } from './postgres-idempotency';
import { postgresMobiles } from './postgres-mobiles';
import { postgresRecalls } from './postgres-recalls';
import { postgresNames, schemaDdl, statements, type PostgresNames } from './postgres-sql';

export interface PostgresStoreOptions {
  /** Receives idle-connection and sweep failures (never the password). */
  logger?: { warn(o: object, m: string): void };
  /** Schema holding the tables; created if absent. Default `public`. */
  schema?: string;
  /** Prefix of every table and function name. Default `gateway_`. */
  tablePrefix?: string;
  /** How often expired rows are deleted. Default 60 000 ms. */
  sweepIntervalMs?: number;
  /** Bound on connecting and on each statement, so an outage fails fast. Default 2000 ms. */
  timeoutMs?: number;
}

interface DecisionRow {
  allowed: boolean;
  reason: 'cooldown' | 'quota' | null;
  retry_at: string;
  history: string[] | null;
}

interface SendsRow {
  allowed: boolean;
  idx: number;
  reason: 'cooldown' | 'quota' | null;
  retry_at: string;
}

/**
 * A VerificationStore on PostgreSQL, for several replicas sharing one database. Each
 * atomic operation is one SQL statement (see postgres-sql.ts); bindings live in Keyv
 * (@keyv/postgres) on the same pool. Creates its schema objects idempotently at start
 * and rejects with store_unavailable when the database cannot be reached then. The pool
 * reconnects by itself after an outage.
 */
export async function createPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<VerificationStore> {
  const names = postgresNames(options.schema, options.tablePrefix);
  const sql = statements(names);
  const secrets = passwordForms(url);
  const clean = (e: unknown) => scrub(e, secrets);
  const timeoutMs = options.timeoutMs ?? 2000;
  const pool = new Pool({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    statement_timeout: timeoutMs,
    // Covers a server that vanished without closing the socket; a little later than
    // statement_timeout so that a statement stuck on a lock is cancelled by the server.
    query_timeout: timeoutMs + 250,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'dingtalk-gateway',
  });
  // Without a listener, an idle connection the server drops would be an uncaught 'error' event.
  pool.on('error', (err) =>
    options.logger?.warn(
      { err: summary(clean(err)) },
      'idle PostgreSQL connection failed; the pool reconnects on demand',
    ),
  );

  try {
    await pool.query(schemaDdl(names));
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw storeUnavailable('setup', clean(e));
  }

  const bindings = new Keyv<Binding>({
    store: keyvAdapter(pool, names),
    namespace: 'binding',
    throwOnErrors: true,
  });
  const guard: Guard = async (operation, work) => {
    try {
      return await work();
    } catch (e) {
      throw storeUnavailable(operation, clean(e));
    }
  };

  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    pool
      .query(sql.sweep)
      .catch((e: unknown) =>
        options.logger?.warn(
          { err: summary(clean(e)) },
          'PostgreSQL store sweep failed; retrying at the next interval',
        ),
      )
      .finally(() => (sweeping = false));
  }, options.sweepIntervalMs ?? 60_000);
  sweeper.unref();
  let closed: Promise<void> | undefined;

  return {
    kind: 'postgres',

    reserveSend: (subject, rule, now) =>
      guard('reserveSend', async (): Promise<SendDecision> => {
        const args = [...key(subject), now, rule.cooldownMs, rule.windowMs, rule.maxInWindow];
        const r = (await pool.query<DecisionRow>(sql.reserveSend, args)).rows[0];
        return r.allowed
          ? { allowed: true, history: (r.history ?? []).map(Number), resendAt: Number(r.retry_at) }
          : { allowed: false, reason: r.reason ?? 'quota', retryAt: Number(r.retry_at) };
      }),

    releaseSend: (subject, at) =>
      guard('releaseSend', async () => {
        await pool.query(sql.releaseSend, [...key(subject), at]);
      }),

    reserveSends: (reservations, now) =>
      guard('reserveSends', async (): Promise<SendsDecision> => {
        if (reservations.length === 0) return { allowed: true, resendAt: now };
        const column = <T>(f: (r: (typeof reservations)[number]) => T) => reservations.map(f);
        const args = [
          column((r) => r.subject.userId),
          column((r) => r.subject.scenario),
          now,
          column((r) => r.rule.cooldownMs),
          column((r) => r.rule.windowMs),
          column((r) => r.rule.maxInWindow),
        ];
        const r = (await pool.query<SendsRow>(sql.reserveSends, args)).rows[0];
        return r.allowed
          ? { allowed: true, resendAt: Number(r.retry_at) }
          : { allowed: false, index: r.idx, reason: r.reason ?? 'quota', retryAt: Number(r.retry_at) };
      }),

    clearSends: (subject) =>
      guard('clearSends', async () => {
        await pool.query(sql.clearSends, key(subject));
      }),

    takeSlot: (name, intervalMs, now, maxWaitMs) =>
      guard('takeSlot', async () => {
        const args = [name, toMicros(now), toMicros(intervalMs), toMicros(maxWaitMs)];
        const booked = await pool.query<{ start_at: string }>(sql.takeSlot, args);
        if (booked.rows.length === 1)
          return { reserved: true, startAt: Number(booked.rows[0].start_at) / 1000 };
        const next = await pool.query<{ next_start: string }>(sql.slotStart, [name]);
        return { reserved: false, startAt: Math.max(now, Number(next.rows[0]?.next_start ?? 0) / 1000) };
      }),

    saveCode: (subject, record, retainMs) =>
      guard('saveCode', async () => {
        const { id, digest, recipient, createdAt, expiresAt, maxAttempts } = record;
        const args = [
          ...key(subject),
          id,
          digest,
          recipient,
          createdAt,
          expiresAt,
          maxAttempts,
          Math.ceil(retainMs),
        ];
        await pool.query(sql.saveCode, args);
      }),

    discardCode: (subject, id) =>
      guard('discardCode', async () => {
        await pool.query(sql.discardCode, [...key(subject), id]);
      }),

    // countAttempt, lockedUntil, consumeCode: a code with its subject's failures.
    ...postgresFailures(pool, guard, names),

    ...keyvBindings(bindings, guard),

    putDelivery: (record, retainMs) =>
      guard('putDelivery', async () => {
        await pool.query(sql.putDelivery, [
          record.verificationId,
          JSON.stringify(record),
          Math.ceil(retainMs),
        ]);
      }),

    getDelivery: (id) =>
      guard(
        'getDelivery',
        async () =>
          (await pool.query<{ record: DeliveryRecord }>(sql.getDelivery, [id])).rows[0]?.record ?? undefined,
      ),

    ...postgresRecalls(pool, guard, names),

    ...postgresIdempotency(pool, guard, names),

    ...postgresMobiles(pool, guard, names),

    getOrCreateSecret: (name, candidate) =>
      guard(
        'getOrCreateSecret',
        async () =>
          (await pool.query<{ value: string }>(sql.getOrCreateSecret, [name, candidate])).rows[0].value,
      ),

    replaceSecret: (name, expected, next) =>
      guard('replaceSecret', async () =>
        expected === ''
          ? (await pool.query<{ value: string }>(sql.getOrCreateSecret, [name, next])).rows[0].value
          : ((await pool.query<{ value: string }>(sql.replaceSecret, [name, expected, next])).rows[0]
              ?.value ?? ''),
      ),

    readSettings: () =>
      guard(
        'readSettings',
        async () => (await pool.query<{ doc: StoredSettings }>(sql.readSettings)).rows[0]?.doc ?? undefined,
      ),

    writeSettings: (expectedVersion, next) =>
      guard('writeSettings', async () => {
        const doc = JSON.stringify(next);
        const result =
          expectedVersion === 0
            ? await pool.query(sql.insertSettings, [doc, next.version])
            : await pool.query(sql.updateSettings, [expectedVersion, next.version, doc]);
        return result.rowCount === 1;
      }),

    putLoginState: (key, record, retainMs) =>
      guard('putLoginState', async () => {
        await pool.query(sql.putLoginState, [key, JSON.stringify(record), Math.ceil(retainMs)]);
      }),

    takeLoginState: (key) =>
      guard(
        'takeLoginState',
        async () =>
          (await pool.query<{ record: LoginState }>(sql.takeLoginState, [key])).rows[0]?.record ?? undefined,
      ),

    ping: () =>
      guard('ping', async () => {
        await pool.query('SELECT 1');
      }),

    close: () => {
      clearInterval(sweeper);
      closed ??= pool.end();
      return closed;
    },
  };
}

const key = (s: SendSubject): [string, string] => [s.userId, s.scenario];

/**
 * @keyv/postgres 2.2.3 keeps one module-global pool per URI, with no 'error' listener
 * (an idle connection dropped by the server would crash the process), and its
 * disconnect() ends that pool for every store sharing it. Its constructor takes its
 * query function from connect() once, so overriding connect() routes its SQL through our pool.
 */
function keyvAdapter(pool: Pool, names: PostgresNames): KeyvPostgres {
  class PooledKeyvPostgres extends KeyvPostgres {
    override async connect() {
      return async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows;
    }
    override async disconnect() {}
  }
  return new PooledKeyvPostgres({ schema: names.kvSchema, table: names.kvTable });
}
