import type { IdempotencyClaim, IdempotencyRecord, VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { MySqlDb, MySqlQueries } from './mysql-db';
import { NOW_MS, type MySqlNames } from './mysql-sql';

interface RecordRow {
  state: 'pending' | 'done';
  digest: string;
  token: string;
  response: string;
  live: number;
}

type StoredRecord = Exclude<IdempotencyRecord, { state: 'claimed' }>;

function idempotencyStatements(n: MySqlNames) {
  const columns = 'state, digest, token, response, expires_at';
  return {
    /** key, state, digest, token, response, keepMs: inserts the record, or locks the one there. */
    lock: `INSERT INTO ${n.idempotency} (\`key\`, ${columns}) VALUES (?, ?, ?, ?, ?, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE expires_at = expires_at`,
    /** key: the record, live or not; locked. */
    read: `SELECT state, digest, token, response, expires_at > ${NOW_MS} AS live
      FROM ${n.idempotency} WHERE \`key\` = ? FOR UPDATE`,
    /** state, digest, token, response, keepMs, key. */
    write: `UPDATE ${n.idempotency} SET state = ?, digest = ?, token = ?, response = ?,
        expires_at = ${NOW_MS} + ? WHERE \`key\` = ?`,
    get: `SELECT state, digest, token, response, 1 AS live
      FROM ${n.idempotency} WHERE \`key\` = ? AND expires_at > ${NOW_MS}`,
    /** key, token. */
    release: `DELETE FROM ${n.idempotency} WHERE \`key\` = ? AND token = ? AND state = 'pending'`,
  };
}

const storedOf = (row: RecordRow): StoredRecord =>
  row.state === 'done'
    ? { state: 'done', digest: row.digest, response: row.response }
    : { state: 'pending', digest: row.digest };

/**
 * Idempotency keys on MySQL. Claiming and completing each run as one transaction: the row is
 * inserted or locked in one statement (INSERT … ON DUPLICATE KEY UPDATE), then read locked and
 * judged as the memory store does. A claim's record is ours when it carries our token (tokens
 * are random per call); an expired record is taken over.
 */
export function mysqlIdempotency(
  db: MySqlDb,
  guard: Guard,
  names: MySqlNames,
): Pick<
  VerificationStore,
  'claimIdempotency' | 'getIdempotency' | 'completeIdempotency' | 'releaseIdempotency'
> {
  const sql = idempotencyStatements(names);
  /** Writes `fields` (state, digest, token, response, keepMs) unless the row holds them already, and returns what was there. */
  const lockAndRead = async (tx: MySqlQueries, key: string, fields: Array<string | number>) => {
    await tx.query(sql.lock, [key, ...fields]);
    return (await tx.rows<RecordRow>(sql.read, [key]))[0];
  };

  return {
    claimIdempotency: (key, claim, leaseMs) =>
      guard('claimIdempotency', () =>
        db.transaction(async (tx): Promise<IdempotencyRecord> => {
          const fields = ['pending', claim.digest, claim.token, '', Math.ceil(leaseMs)];
          const row = await lockAndRead(tx, key, fields);
          if (row.token === claim.token && row.live) return { state: 'claimed' };
          if (row.live) return storedOf(row);
          await tx.query(sql.write, [...fields, key]);
          return { state: 'claimed' };
        }),
      ),

    getIdempotency: (key) =>
      guard('getIdempotency', async () => {
        const [row] = await db.rows<RecordRow>(sql.get, [key]);
        return row === undefined ? undefined : storedOf(row);
      }),

    completeIdempotency: (key, claim: IdempotencyClaim, response, retainMs) =>
      guard('completeIdempotency', () =>
        db.transaction(async (tx) => {
          const fields = ['done', claim.digest, claim.token, response, Math.ceil(retainMs)];
          const row = await lockAndRead(tx, key, fields);
          // Another holder took the key since this one's lease ran out.
          if (row.live && row.token !== claim.token) return false;
          await tx.query(sql.write, [...fields, key]);
          return true;
        }),
      ),

    releaseIdempotency: (key, token) =>
      guard('releaseIdempotency', async () => {
        await db.query(sql.release, [key, token]);
      }),
  };
}
