import { isCompared, type AttemptSnapshot, type CodeRecord } from '../domain/code';
import {
  countFailure,
  failureRetainUntil,
  isLocked,
  NO_FAILURES,
  type FailureState,
} from '../domain/lockout';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { MySqlDb, MySqlQueries } from './mysql-db';
import { NOW_MS, type MySqlNames } from './mysql-sql';

interface CodeRow {
  id: Buffer;
  digest: string;
  recipient: string;
  created_at: number | string;
  code_expires_at: number | string;
  max_attempts: number;
  attempts: number;
  used: number;
}

interface FailureRow {
  failures: number;
  since: number | string;
  locks: number;
  locked_until: number | string;
}

function codeStatements(n: MySqlNames) {
  return {
    /** user, scenario, id, digest, recipient, createdAt, expiresAt, maxAttempts, retainMs, then the six from id again. */
    saveCode: `INSERT INTO ${n.code} (user_id, scenario, id, digest, recipient, created_at, code_expires_at,
        max_attempts, attempts, used_at, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE id = ?, digest = ?, recipient = ?, created_at = ?, code_expires_at = ?,
        max_attempts = ?, attempts = 0, used_at = NULL, expires_at = ${NOW_MS} + ?`,
    /** user, scenario, id. */
    discardCode: `DELETE FROM ${n.code} WHERE user_id = ? AND scenario = ? AND id = ?`,
    /** user, scenario: the live code, locked until the transaction ends. */
    readCode: `SELECT id, digest, recipient, created_at, code_expires_at, max_attempts, attempts,
        used_at IS NOT NULL AS used
      FROM ${n.code} WHERE user_id = ? AND scenario = ? AND expires_at > ${NOW_MS} FOR UPDATE`,
    /** user, scenario. */
    countAttempt: `UPDATE ${n.code} SET attempts = attempts + 1 WHERE user_id = ? AND scenario = ?`,
    /** user, scenario, id. Matches one row for exactly one caller: the others wait for its lock, then re-read `used_at`. */
    consumeCode: `UPDATE ${n.code} SET used_at = ${NOW_MS}
      WHERE user_id = ? AND scenario = ? AND id = ? AND used_at IS NULL AND expires_at > ${NOW_MS}`,
    /**
     * user, scenario. A plain read: a failure row changes only under its code's row lock, which
     * the reader holds, and its snapshot starts at this read, after that lock was granted.
     */
    readFailures: `SELECT failures, since, locks, locked_until FROM ${n.failure}
      WHERE user_id = ? AND scenario = ? AND expires_at > ${NOW_MS}`,
    /** user, scenario, failures, since, locks, locked_until, keepMs, then the five from failures again. */
    writeFailures: `INSERT INTO ${n.failure} (user_id, scenario, failures, since, locks, locked_until, expires_at)
      VALUES (?, ?, ?, ?, ?, ?, ${NOW_MS} + ?)
      ON DUPLICATE KEY UPDATE failures = ?, since = ?, locks = ?, locked_until = ?, expires_at = ${NOW_MS} + ?`,
    clearFailures: `DELETE FROM ${n.failure} WHERE user_id = ? AND scenario = ?`,
  };
}

const failureOf = (row: FailureRow | undefined): FailureState =>
  row === undefined
    ? NO_FAILURES
    : {
        failures: row.failures,
        since: Number(row.since),
        locks: row.locks,
        lockedUntil: Number(row.locked_until),
      };

const recordOf = (row: CodeRow): CodeRecord => ({
  id: row.id.toString('utf8'),
  digest: row.digest,
  recipient: row.recipient,
  createdAt: Number(row.created_at),
  expiresAt: Number(row.code_expires_at),
  maxAttempts: row.max_attempts,
});

/**
 * Codes with their subjects' failed verifications (domain/lockout.ts) on MySQL. countAttempt
 * and consumeCode each lock the code's row first and change the failure row only while they
 * hold it, so the two are ordered with no deadlock; the rules applied are the domain's own
 * (isCompared, countFailure), run in JavaScript inside the transaction.
 */
export function mysqlCodes(
  db: MySqlDb,
  guard: Guard,
  names: MySqlNames,
): Pick<VerificationStore, 'saveCode' | 'discardCode' | 'countAttempt' | 'lockedUntil' | 'consumeCode'> {
  const sql = codeStatements(names);
  const failures = async (q: MySqlQueries, subject: [string, string]) =>
    failureOf((await q.rows<FailureRow>(sql.readFailures, subject))[0]);

  return {
    saveCode: (subject, record, retainMs) =>
      guard('saveCode', async () => {
        const { id, digest, recipient, createdAt, expiresAt, maxAttempts } = record;
        const fields = [id, digest, recipient, createdAt, expiresAt, maxAttempts, Math.ceil(retainMs)];
        await db.query(sql.saveCode, [subject.userId, subject.scenario, ...fields, ...fields]);
      }),

    discardCode: (subject, id) =>
      guard('discardCode', async () => {
        await db.query(sql.discardCode, [subject.userId, subject.scenario, id]);
      }),

    countAttempt: (subject, check) =>
      guard('countAttempt', () =>
        db.transaction(async (tx): Promise<AttemptSnapshot> => {
          const key: [string, string] = [subject.userId, subject.scenario];
          const [row] = await tx.rows<CodeRow>(sql.readCode, key);
          const before = check ? await failures(tx, key) : NO_FAILURES;
          if (check && isLocked(before, check.now))
            return { state: 'locked', lockedUntil: before.lockedUntil };
          if (row === undefined) return { state: 'missing' };
          // A used code comes back as such, uncounted; the row lock orders this against consumeCode.
          if (row.used) return { state: 'used', id: row.id.toString('utf8') };
          await tx.query(sql.countAttempt, key);
          const counted = { state: 'counted', record: recordOf(row), attempts: row.attempts + 1 } as const;
          if (!check || !isCompared(counted.record, counted.attempts, check.now)) return counted;
          const { state, locked } = countFailure(before, check.now, check.rule);
          // Kept as long as the rule can still look at it, by the database's clock.
          const keepMs = Math.max(1, failureRetainUntil(state, check.rule) - check.now);
          const fields = [state.failures, state.since, state.locks, state.lockedUntil, keepMs];
          await tx.query(sql.writeFailures, [...key, ...fields, ...fields]);
          return locked ? { ...counted, lockedUntil: state.lockedUntil } : counted;
        }),
      ),

    lockedUntil: (subject, now) =>
      guard('lockedUntil', async () => {
        const state = await failures(db, [subject.userId, subject.scenario]);
        return isLocked(state, now) ? state.lockedUntil : 0;
      }),

    consumeCode: (subject, id) =>
      guard('consumeCode', () =>
        db.transaction(async (tx) => {
          const key = [subject.userId, subject.scenario];
          if ((await tx.affected(sql.consumeCode, [...key, id])) !== 1) return false;
          await tx.query(sql.clearFailures, key);
          return true;
        }),
      ),
  };
}
