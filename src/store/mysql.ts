import { Keyv } from 'keyv';
import type { Binding } from '../domain/binding';
import { storeUnavailable } from '../domain/errors';
import type { VerificationStore } from '../verification/ports';
import { keyvBindings, type Guard } from './keyv-bindings';
import { mysqlCodes } from './mysql-codes';
import { openMySqlDb, type MySqlDb } from './mysql-db';
import { mysqlIdempotency } from './mysql-idempotency';
import { keyvMysqlAdapter } from './mysql-keyv';
import { mysqlRecalls } from './mysql-recalls';
import { mysqlRecords } from './mysql-records';
import { mysqlSends } from './mysql-sends';
import { mysqlNames, schemaDdl, sweepStatements, SWEEP_BATCH } from './mysql-sql';
import { passwordForms, scrub, summary } from './redact';

export interface MySqlStoreOptions {
  /** Receives failed idle connections and sweeps (never the password). */
  logger?: { warn(o: object, m: string): void };
  /** Prefix of every table name, in the database the URL names. Default `gateway_`. */
  tablePrefix?: string;
  /** How often expired rows are deleted. Default 60 000 ms. */
  sweepIntervalMs?: number;
  /** Bound on each operation: a free connection, connecting, and its statements. Default 2000 ms. */
  timeoutMs?: number;
  /** Bound on creating the schema at start, waiting for other replicas included. Default 5 × timeoutMs. */
  setupTimeoutMs?: number;
  /** Connections per store. Default 10. */
  connectionLimit?: number;
}

/**
 * A VerificationStore on MySQL 8.0+ or MariaDB 10.6+, for several replicas sharing one
 * database (the one the URL names). Each read-modify-write is a short InnoDB transaction
 * that first locks the row it changes (INSERT … ON DUPLICATE KEY UPDATE creates and locks
 * it, SELECT … FOR UPDATE reads it) and then applies the same rule the memory store does
 * (decideSend itself for sends); the other operations are single statements. Bindings go
 * through Keyv (@keyv/mysql) on the same pool. The schema is created idempotently at start
 * under GET_LOCK; start rejects with store_unavailable when the database cannot be reached.
 */
export async function createMySqlStore(
  url: string,
  options: MySqlStoreOptions = {},
): Promise<VerificationStore> {
  const secrets = passwordForms(url, 'mysql');
  const clean = (e: unknown) => scrub(e, secrets);
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (database === '' || database.includes('/')) {
    throw new Error(
      'mysql store: the store URL must name a database, as in mysql://user:password@host:3306/database',
    );
  }
  const names = mysqlNames(database, options.tablePrefix);
  const sweep = sweepStatements(names);
  const timeoutMs = options.timeoutMs ?? 2000;
  let warnedAt = 0;
  const db = openMySqlDb(url, {
    timeoutMs,
    connectionLimit: options.connectionLimit ?? 10,
    onConnectionError: (e) => {
      // Every pooled connection fails at once when the server goes; one line per 10 s is enough.
      if (Date.now() - warnedAt < 10_000) return;
      warnedAt = Date.now();
      options.logger?.warn(
        { err: summary(clean(e)) },
        'idle MySQL connection failed; the pool reconnects on demand',
      );
    },
  });

  try {
    const [{ version }] = await db.rows<{ version: string }>('SELECT VERSION() AS version');
    if (!supportsSkipLocked(version)) {
      throw new Error(
        `MySQL ${version} is too old: the store needs MySQL 8.0.1+ or MariaDB 10.6+ (SKIP LOCKED)`,
      );
    }
    await db.setup(names.lockName, schemaDdl(names), options.setupTimeoutMs ?? 5 * timeoutMs);
  } catch (e) {
    await db.end().catch(() => undefined);
    throw storeUnavailable('setup', clean(e));
  }

  let closed: Promise<void> | undefined;
  const guard: Guard = async (operation, work) => {
    if (closed) throw storeUnavailable(operation, new Error('the MySQL store is closed'));
    try {
      return await work();
    } catch (e) {
      throw storeUnavailable(operation, clean(e));
    }
  };
  const bindings = new Keyv<Binding>({
    store: keyvMysqlAdapter(
      (text) => db.query(text),
      names.kvTable,
      (text) => db.affected(text),
    ),
    namespace: 'binding',
    throwOnErrors: true,
  });

  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweepExpired(db, sweep)
      .catch((e: unknown) =>
        options.logger?.warn(
          { err: summary(clean(e)) },
          'MySQL store sweep failed; retrying at the next interval',
        ),
      )
      .finally(() => (sweeping = false));
  }, options.sweepIntervalMs ?? 60_000);
  sweeper.unref();

  return {
    kind: 'mysql',

    ...mysqlSends(db, guard, names),

    // Codes with their subjects' failures: saveCode, discardCode, countAttempt, lockedUntil, consumeCode.
    ...mysqlCodes(db, guard, names),

    ...keyvBindings(bindings, guard),

    ...mysqlRecalls(db, guard, names),

    ...mysqlIdempotency(db, guard, names),

    ...mysqlRecords(db, guard, names),

    ping: () =>
      guard('ping', async () => {
        await db.query('SELECT 1');
      }),

    close: () => {
      clearInterval(sweeper);
      closed ??= db.end();
      return closed;
    },
  };
}

/** Deletes every expired row, a batch of keys at a time per table (see sweepStatements). */
async function sweepExpired(db: MySqlDb, tables: ReturnType<typeof sweepStatements>): Promise<void> {
  for (const { columns, select, remove } of tables) {
    let rows: Array<Record<string, unknown>>;
    do {
      rows = await db.rows<Record<string, unknown>>(select);
      if (rows.length > 0) await db.query(remove, [rows.map((r) => columns.map((c) => r[c]))]);
    } while (rows.length === SWEEP_BATCH);
  }
}

/** FOR UPDATE SKIP LOCKED: MySQL 8.0.1, MariaDB 10.6. */
function supportsSkipLocked(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const at = major * 10_000 + minor * 100 + patch;
  return /mariadb/i.test(version) ? at >= 100_600 : at >= 80_001;
}
