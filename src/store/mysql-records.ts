import type { DeliveryRecord } from '../domain/delivery';
import type { LoginState } from '../domain/login';
import type { StoredSettings } from '../domain/settings';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { MySqlDb } from './mysql-db';
import { NOW_MS, type MySqlNames } from './mysql-sql';

type RecordMethods = Pick<
  VerificationStore,
  | 'putDelivery'
  | 'getDelivery'
  | 'getMobileUser'
  | 'putMobileUser'
  | 'getOrCreateSecret'
  | 'replaceSecret'
  | 'readSettings'
  | 'writeSettings'
  | 'putLoginState'
  | 'takeLoginState'
>;

const ER_DUP_ENTRY = 1062;

/**
 * `?` placeholders, values escaped by mysql2. Upserts repeat their values in ON DUPLICATE KEY
 * UPDATE: VALUES() there is deprecated on MySQL 8, and its replacement (a row alias) does not
 * exist on MariaDB.
 */
function recordStatements(n: MySqlNames) {
  return {
    /** id, record JSON, retainMs, record JSON, retainMs. */
    putDelivery: `INSERT INTO ${n.delivery} (id, record, expires_at) VALUES (?, ?, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE record = ?, expires_at = ${NOW_MS} + ?`,
    getDelivery: `SELECT record FROM ${n.delivery} WHERE id = ? AND expires_at > ${NOW_MS}`,

    getMobileUser: `SELECT dingtalk_user_id FROM ${n.mobile} WHERE \`key\` = ? AND expires_at > ${NOW_MS}`,
    /** key, userid, ttlMs, userid, ttlMs. */
    putMobileUser: `INSERT INTO ${n.mobile} (\`key\`, dingtalk_user_id, expires_at) VALUES (?, ?, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE dingtalk_user_id = ?, expires_at = ${NOW_MS} + ?`,

    /** name, candidate: creates the secret unless present, and locks it (no IGNORE: it hides truncation). */
    lockSecret: `INSERT INTO ${n.secret} (name, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = name`,
    readSecret: `SELECT value FROM ${n.secret} WHERE name = ? FOR UPDATE`,
    /** value, name. */
    writeSecret: `UPDATE ${n.secret} SET value = ? WHERE name = ?`,

    readSettings: `SELECT doc FROM ${n.settings} WHERE name = 'runtime'`,
    /** version, doc: fails with a duplicate key when a document is stored already. */
    insertSettings: `INSERT INTO ${n.settings} (name, version, doc) VALUES ('runtime', ?, ?)`,
    /** new version, doc, expected version: a compare-and-set in one statement (the row lock orders writers). */
    updateSettings: `UPDATE ${n.settings} SET version = ?, doc = ? WHERE name = 'runtime' AND version = ?`,

    /** key, record JSON, retainMs, record JSON, retainMs. Keys are random: the upsert only makes a retry harmless. */
    putLoginState: `INSERT INTO ${n.login} (\`key\`, record, expires_at) VALUES (?, ?, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE record = ?, expires_at = ${NOW_MS} + ?`,
    readLoginState: `SELECT record FROM ${n.login} WHERE \`key\` = ? AND expires_at > ${NOW_MS} FOR UPDATE`,
    deleteLoginState: `DELETE FROM ${n.login} WHERE \`key\` = ?`,
  };
}

/** Deliveries, the mobile look-up cache, secrets, runtime settings and DingTalk login states on MySQL. */
export function mysqlRecords(db: MySqlDb, guard: Guard, names: MySqlNames): RecordMethods {
  const sql = recordStatements(names);

  /**
   * The secret compare-and-set, in one transaction: from '' it is set-if-absent (the row is
   * inserted or locked in one statement), otherwise the locked value is compared exactly (in
   * JavaScript: a SQL `=` ignores trailing spaces). Returns the value in force afterwards.
   */
  const replaceSecret = (name: string, expected: string, next: string) =>
    db.transaction(async (tx) => {
      if (expected === '') await tx.query(sql.lockSecret, [name, next]);
      const current = (await tx.rows<{ value: string }>(sql.readSecret, [name]))[0]?.value ?? '';
      if (current !== expected || current === next) return current;
      await tx.query(sql.writeSecret, [next, name]);
      return next;
    });

  return {
    putDelivery: (record, retainMs) =>
      guard('putDelivery', async () => {
        const doc = [JSON.stringify(record), Math.ceil(retainMs)];
        await db.query(sql.putDelivery, [record.verificationId, ...doc, ...doc]);
      }),

    getDelivery: (id) =>
      guard('getDelivery', async () => {
        const [row] = await db.rows<{ record: string }>(sql.getDelivery, [id]);
        return row === undefined ? undefined : (JSON.parse(row.record) as DeliveryRecord);
      }),

    getMobileUser: (key) =>
      guard('getMobileUser', async () => {
        const [row] = await db.rows<{ dingtalk_user_id: string }>(sql.getMobileUser, [key]);
        return row?.dingtalk_user_id;
      }),

    putMobileUser: (key, dingtalkUserId, ttlMs) =>
      guard('putMobileUser', async () => {
        const fields = [dingtalkUserId, Math.max(1, Math.ceil(ttlMs))];
        await db.query(sql.putMobileUser, [key, ...fields, ...fields]);
      }),

    getOrCreateSecret: (name, candidate) =>
      guard('getOrCreateSecret', () => replaceSecret(name, '', candidate)),

    replaceSecret: (name, expected, next) =>
      guard('replaceSecret', () => replaceSecret(name, expected, next)),

    readSettings: () =>
      guard('readSettings', async () => {
        const [row] = await db.rows<{ doc: string }>(sql.readSettings);
        return row === undefined ? undefined : (JSON.parse(row.doc) as StoredSettings);
      }),

    writeSettings: (expectedVersion, next) =>
      guard('writeSettings', async () => {
        const doc = JSON.stringify(next);
        if (expectedVersion !== 0)
          return (await db.affected(sql.updateSettings, [next.version, doc, expectedVersion])) === 1;
        try {
          await db.query(sql.insertSettings, [next.version, doc]);
          return true;
        } catch (e) {
          if ((e as { errno?: unknown }).errno === ER_DUP_ENTRY) return false;
          throw e;
        }
      }),

    putLoginState: (key, record, retainMs) =>
      guard('putLoginState', async () => {
        const doc = [JSON.stringify(record), Math.ceil(retainMs)];
        await db.query(sql.putLoginState, [key, ...doc, ...doc]);
      }),

    takeLoginState: (key) =>
      guard('takeLoginState', () =>
        db.transaction(async (tx) => {
          // Exactly one taker finds the row: the others wait for its lock, then read it gone.
          const [row] = await tx.rows<{ record: string }>(sql.readLoginState, [key]);
          if (row === undefined) return undefined;
          await tx.query(sql.deleteLoginState, [key]);
          return JSON.parse(row.record) as LoginState;
        }),
      ),
  };
}
