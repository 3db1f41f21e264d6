import { KeyvMysql, type KeyvMysqlOptions } from '@keyv/mysql';
import { format } from 'mysql2';

/**
 * A @keyv/mysql adapter whose SQL runs on the store's own bounded pool (mysql-db.ts).
 *
 * @keyv/mysql 2.1.10 has no way to take a pool: its constructor opens one module-global
 * pool for the whole process (replaced without being ended when another URI comes along,
 * ended for every store by disconnect(), no 'error' listener) and runs its CREATE TABLE
 * there. So it is given a URI with no password and a pool that refuses every connection
 * at once (a limit below zero, no waiting: nothing is dialled), and its public `query`
 * is pointed at ours. Our DDL made the table already, under the schema lock.
 */
export function keyvMysqlAdapter(
  query: (sql: string) => Promise<unknown>,
  table: string,
  affected: (sql: string) => Promise<number>,
): KeyvMysql {
  class PooledKeyvMysql extends KeyvMysql {
    constructor() {
      super({
        uri: 'mysql://keyv-adapter.invalid/unused',
        table,
        connectionLimit: -1,
        waitForConnections: false,
      } as KeyvMysqlOptions);
      // Its own query awaits that refused CREATE TABLE: awaited once here, so the rejection is handled.
      this.query('SELECT 1').catch(() => undefined);
      this.query = query as KeyvMysql['query'];
    }

    // Its delete is a SELECT then a DELETE: two callers could both be told they removed the row.
    override async delete(key: string): Promise<boolean> {
      return (await affected(format('DELETE FROM ?? WHERE id = ?', [table, key]))) === 1;
    }

    override async disconnect() {}
  }
  return new PooledKeyvMysql();
}
