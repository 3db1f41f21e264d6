import { createHash } from 'node:crypto';

/**
 * The MySQL/MariaDB store's names, tables and sweep. Times are integer milliseconds since the
 * epoch in BIGINT columns (call slots: microseconds). Every row that can expire has an
 * `expires_at` column that reads filter on and the sweep deletes by, on the database's clock.
 * Keys are VARBINARY: MySQL's default collations fold case, accents and trailing spaces, which
 * would make `Alice` and `alice` one user. Text and JSON columns are utf8mb4 whatever the
 * server's default (MariaDB's is latin1). Indexes are declared inside CREATE TABLE: MySQL has
 * no CREATE INDEX IF NOT EXISTS.
 *
 * Each module's statements sit beside it (mysql-sends.ts, mysql-codes.ts, …). A read-modify-
 * write is a short transaction that first creates or locks its row with one INSERT … ON
 * DUPLICATE KEY UPDATE (which takes an exclusive lock on the row it finds), then reads it
 * with SELECT … FOR UPDATE: a locking read of a missing row takes a gap lock instead, and two
 * of those followed by inserts deadlock.
 */

/** Backquoted names of everything the store creates, and the named lock that orders its DDL. */
export interface MySqlNames {
  send: string;
  code: string;
  /** Failed verifications per subject, across codes (see mysql-codes.ts). */
  failure: string;
  slot: string;
  delivery: string;
  /** The recall due list, and each subject's newest code (see mysql-recalls.ts). */
  recall: string;
  recallLatest: string;
  /** Started DingTalk logins, by state key. */
  login: string;
  secret: string;
  settings: string;
  /** Idempotency keys' records, by the key's hash (see mysql-idempotency.ts). */
  idempotency: string;
  /** The mobile look-up cache: getbymobile's answers by a keyed hash of the number. */
  mobile: string;
  /** The @keyv/mysql table, unquoted (the adapter quotes it), and quoted. */
  kvTable: string;
  kv: string;
  /** GET_LOCK name: server-wide, so it names the database too; at most 64 characters. */
  lockName: string;
}

// Lower-case plain identifiers only, so a name means the same on every server and file system.
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Validates `tablePrefix` and derives every name from it and the database the URL names. */
export function mysqlNames(database: string, tablePrefix = 'gateway_'): MySqlNames {
  if (tablePrefix !== '' && (!IDENTIFIER.test(tablePrefix) || tablePrefix.length > 40)) {
    throw new Error(
      `mysql store: tablePrefix must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 40 characters)`,
    );
  }
  const q = (name: string) => `\`${tablePrefix}${name}\``;
  const scope = createHash('sha256').update(`${database}\0${tablePrefix}`).digest('hex').slice(0, 40);
  return {
    send: q('send'),
    code: q('code'),
    failure: q('failure'),
    slot: q('slot'),
    delivery: q('delivery'),
    recall: q('recall'),
    recallLatest: q('recall_latest'),
    login: q('login_state'),
    secret: q('secret'),
    settings: q('settings'),
    idempotency: q('idempotency'),
    mobile: q('mobile'),
    kvTable: `${tablePrefix}kv`,
    kv: q('kv'),
    lockName: `dingtalk-gateway:${scope}`,
  };
}

/** The database's clock in ms (sessions run in UTC, see mysql-db.ts): one clock for every replica's retention. */
export const NOW_MS = `CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)`;

const KEY = 'VARBINARY(255) NOT NULL';
const TABLE = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin';

/** Idempotent DDL, one statement each (run under GET_LOCK by mysql-db.ts). */
export function schemaDdl(n: MySqlNames): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${n.send} (
      user_id ${KEY}, scenario ${KEY},
      sends TEXT NOT NULL COMMENT 'JSON array of send times',
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (user_id, scenario), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.code} (
      user_id ${KEY}, scenario ${KEY}, id ${KEY},
      digest TEXT NOT NULL, recipient TEXT NOT NULL,
      created_at BIGINT NOT NULL, code_expires_at BIGINT NOT NULL,
      max_attempts INT NOT NULL, attempts INT NOT NULL, used_at BIGINT NULL,
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (user_id, scenario), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.failure} (
      user_id ${KEY}, scenario ${KEY},
      failures INT NOT NULL, since BIGINT NOT NULL, locks INT NOT NULL, locked_until BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (user_id, scenario), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.slot} (
      name ${KEY},
      next_start BIGINT NOT NULL COMMENT 'microseconds since the epoch',
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (name), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.delivery} (
      id ${KEY}, record MEDIUMTEXT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (id), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.recall} (
      id ${KEY}, task_id TEXT NOT NULL, user_id ${KEY}, scenario ${KEY},
      created_at BIGINT NOT NULL, sent_at BIGINT NOT NULL, due_at BIGINT NOT NULL,
      reason VARCHAR(16) NOT NULL, attempts INT NOT NULL,
      PRIMARY KEY (id), INDEX due_at (due_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.recallLatest} (
      user_id ${KEY}, scenario ${KEY}, id ${KEY},
      created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (user_id, scenario), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.login} (
      \`key\` ${KEY}, record MEDIUMTEXT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (\`key\`), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.idempotency} (
      \`key\` ${KEY}, state VARCHAR(8) NOT NULL, digest TEXT NOT NULL, token TEXT NOT NULL,
      response MEDIUMTEXT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (\`key\`), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.mobile} (
      \`key\` ${KEY}, dingtalk_user_id TEXT NOT NULL, expires_at BIGINT NOT NULL,
      PRIMARY KEY (\`key\`), INDEX expires_at (expires_at)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.secret} (
      name ${KEY}, value TEXT NOT NULL, PRIMARY KEY (name)) ${TABLE}`,
    `CREATE TABLE IF NOT EXISTS ${n.settings} (
      name ${KEY}, version BIGINT NOT NULL, doc MEDIUMTEXT NOT NULL, PRIMARY KEY (name)) ${TABLE}`,
    // The columns @keyv/mysql reads (id, value); made here, under the lock, with a key that compares exactly.
    `CREATE TABLE IF NOT EXISTS ${n.kv} (id VARBINARY(255) NOT NULL, value TEXT, PRIMARY KEY (id)) ${TABLE}`,
  ];
}

/**
 * The sweep, a batch at a time per table: the expired rows' keys are read by the expires_at
 * index (forced: on a small table the optimizer would scan, and a scanning DELETE locks every
 * row it reads), then deleted by primary key if still expired. Each statement runs on its own,
 * so the sweep never holds locks for long.
 */
export function sweepStatements(n: MySqlNames): Array<{ columns: string[]; select: string; remove: string }> {
  const bySubject = ['user_id', 'scenario'];
  const keys: Array<[string, string[]]> = [
    [n.send, bySubject],
    [n.code, bySubject],
    [n.failure, bySubject],
    [n.recallLatest, bySubject],
    [n.slot, ['name']],
    [n.delivery, ['id']],
    [n.login, ['key']],
    [n.idempotency, ['key']],
    [n.mobile, ['key']],
  ];
  return keys.map(([table, columns]) => ({
    columns,
    select: `SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM ${table} FORCE INDEX (expires_at)
      WHERE expires_at <= ${NOW_MS} LIMIT ${SWEEP_BATCH}`,
    remove: `DELETE t FROM ${table} AS t FORCE INDEX (PRIMARY)
      WHERE (${columns.map((c) => `t.\`${c}\``).join(', ')}) IN (?) AND t.expires_at <= ${NOW_MS}`,
  }));
}

export const SWEEP_BATCH = 1000;
