import { createPool, type PoolConnection } from 'mysql2/promise';

/** Runs statements: one at a time in autocommit, or inside a transaction's connection. */
export interface MySqlQueries {
  /** mysql2's result: rows for a SELECT, a ResultSetHeader otherwise. */
  query(sql: string, values?: unknown[]): Promise<unknown>;
  rows<T>(sql: string, values?: unknown[]): Promise<T[]>;
  /** Rows matched (mysql2 connects with CLIENT_FOUND_ROWS), not only rows changed. */
  affected(sql: string, values?: unknown[]): Promise<number>;
}

export interface MySqlDb extends MySqlQueries {
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves. On a
   * deadlock (which InnoDB resolves by rolling one transaction back) `work` runs again,
   * at most three times in all, so it must only touch the database.
   */
  transaction<T>(work: (tx: MySqlQueries) => Promise<T>): Promise<T>;
  /** Takes the named lock, runs `ddl` one statement at a time, releases the lock; bounded by `timeoutMs`. */
  setup(lockName: string, ddl: string[], timeoutMs: number): Promise<void>;
  end(): Promise<void>;
}

export interface MySqlDbOptions {
  /** Bound on each operation: waiting for a connection, connecting, and every statement in it. */
  timeoutMs: number;
  connectionLimit: number;
  /** An idle connection failed (the server went away), or a new one could not be set up. */
  onConnectionError(e: unknown): void;
}

const ER_LOCK_DEADLOCK = 1213;

/** An error the server sent about a statement; the connection itself is still fine. */
const isServerError = (e: unknown): e is { errno: number } =>
  typeof (e as { sqlState?: unknown })?.sqlState === 'string' && (e as { fatal?: unknown }).fatal !== true;

/**
 * A mysql2 pool whose every operation is bounded: mysql2's query timeout only rejects the
 * call (the connection keeps waiting for the answer, and the pool would hand it out again),
 * and waiting for a free connection has no bound at all. So each operation has a deadline;
 * a connection that failed in any way other than a server error is destroyed, which also
 * makes the server roll back whatever transaction it held.
 */
export function openMySqlDb(url: string, options: MySqlDbOptions): MySqlDb {
  const { timeoutMs } = options;
  const pool = createPool({
    uri: url,
    connectTimeout: timeoutMs,
    connectionLimit: options.connectionLimit,
    enableKeepAlive: true,
    keepAliveInitialDelay: 10_000,
    charset: 'utf8mb4',
    // mysql2 captures a stack trace per statement for its errors: a fifth of the CPU of a
    // statement here, and every failure is rethrown by the store's guard with a stack of its own.
    trace: false,
    connectAttributes: { program_name: 'dingtalk-gateway' },
  });
  // UTC makes UNIX_TIMESTAMP(NOW(3)) exact (a zone with daylight saving repeats an hour);
  // the lock wait bound keeps a statement queued behind a stuck lock from waiting 50 s.
  const session = `SET SESSION time_zone = '+00:00', innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(timeoutMs / 1000))}`;
  pool.pool.on('connection', (connection) => {
    // Without a listener, a second error on an idle connection would be an uncaught 'error' event.
    connection.on('error', (e) => options.onConnectionError(e));
    // Queued before the caller's first statement, which fails too when this does.
    connection.query(session, (e) => {
      if (e) {
        options.onConnectionError(e);
        connection.destroy();
      }
    });
  });

  const acquire = async (deadline: number): Promise<PoolConnection> => {
    const waiting = pool.getConnection();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      const message = `no MySQL connection within ${timeoutMs} ms`;
      timer = setTimeout(() => reject(new Error(message)), Math.max(1, deadline - Date.now()));
    });
    try {
      return await Promise.race([waiting, late]);
    } catch (e) {
      // A connection that comes after the deadline goes back to the pool.
      waiting.then(
        (c) => c.release(),
        () => undefined,
      );
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };

  const on = (connection: PoolConnection, deadline: number): MySqlQueries => {
    const query = async (sql: string, values?: unknown[]) => {
      const timeout = Math.max(1, deadline - Date.now());
      return (await connection.query({ sql, values, timeout }))[0];
    };
    return {
      query,
      rows: async <T>(sql: string, values?: unknown[]) => (await query(sql, values)) as T[],
      affected: async (sql, values) => ((await query(sql, values)) as { affectedRows: number }).affectedRows,
    };
  };

  /** Runs `work` on a connection of its own, then returns the connection to the pool or destroys it. */
  const withConnection = async <T>(
    deadline: number,
    work: (q: MySqlQueries) => Promise<T>,
    recover?: (q: MySqlQueries) => Promise<unknown>,
  ): Promise<T> => {
    const connection = await acquire(deadline);
    const q = on(connection, deadline);
    try {
      const result = await work(q);
      connection.release();
      return result;
    } catch (e) {
      if (!isServerError(e)) connection.destroy();
      else
        await (recover ?? (async () => undefined))(q).then(
          () => connection.release(),
          () => connection.destroy(),
        );
      throw e;
    }
  };

  const single = <T>(run: (q: MySqlQueries) => Promise<T>) => withConnection(Date.now() + timeoutMs, run);

  return {
    query: (sql, values) => single((q) => q.query(sql, values)),
    rows: (sql, values) => single((q) => q.rows(sql, values)),
    affected: (sql, values) => single((q) => q.affected(sql, values)),

    async transaction(work) {
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 1; ; attempt++) {
        try {
          return await withConnection(
            deadline,
            async (q) => {
              await q.query('START TRANSACTION');
              const result = await work(q);
              await q.query('COMMIT');
              return result;
            },
            (q) => q.query('ROLLBACK'),
          );
        } catch (e) {
          const again = isServerError(e) && e.errno === ER_LOCK_DEADLOCK && attempt < 3;
          if (!again || Date.now() >= deadline) throw e;
        }
      }
    },

    setup: (lockName, ddl, setupTimeoutMs) =>
      withConnection(Date.now() + setupTimeoutMs, async (q) => {
        const wait = Math.max(1, Math.floor(setupTimeoutMs / 1000) - 1);
        const [row] = await q.rows<{ locked: number | null }>('SELECT GET_LOCK(?, ?) AS locked', [
          lockName,
          wait,
        ]);
        if (Number(row?.locked) !== 1) throw new Error(`the schema lock was not free within ${wait} s`);
        try {
          for (const statement of ddl) await q.query(statement);
        } finally {
          // A session's named locks go with it, so a failure here is covered when it is destroyed.
          await q.query('SELECT RELEASE_LOCK(?)', [lockName]);
        }
      }),

    // Ending a connection the server or network already dropped fails; the pool is closed all the same.
    end: () => pool.end().catch(() => undefined),
  };
}
