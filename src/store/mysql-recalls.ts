import type { RecallEntry, RecallReason } from '../domain/recall';
import type { ScenarioName } from '../domain/scenario';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { MySqlDb } from './mysql-db';
import { NOW_MS, type MySqlNames } from './mysql-sql';

interface RecallRow {
  id: Buffer;
  task_id: string;
  user_id: Buffer;
  scenario: Buffer;
  created_at: number | string;
  sent_at: number | string;
  due_at: number | string;
  reason: string;
  attempts: number;
}

const COLUMNS = 'id, task_id, user_id, scenario, created_at, sent_at, due_at, reason, attempts';

function recallStatements(n: MySqlNames) {
  return {
    /** user, scenario: creates (expired, nameless) or locks the subject's newest-code row. */
    lockLatest: `INSERT INTO ${n.recallLatest} (user_id, scenario, id, created_at, expires_at)
      VALUES (?, ?, '', 0, 0) ON DUPLICATE KEY UPDATE expires_at = expires_at`,
    readLatest: `SELECT id, created_at, expires_at > ${NOW_MS} AS live
      FROM ${n.recallLatest} WHERE user_id = ? AND scenario = ? FOR UPDATE`,
    /** id, createdAt, ms to keep, user, scenario. */
    writeLatest: `UPDATE ${n.recallLatest} SET id = ?, created_at = ?, expires_at = ${NOW_MS} + ?
      WHERE user_id = ? AND scenario = ?`,
    /** now, the older code's id, now: only an entry still waiting for its code's expiry. */
    replaceOlder: `UPDATE ${n.recall} SET due_at = ?, reason = 'replaced'
      WHERE id = ? AND reason = 'expired' AND due_at > ?`,
    /** The columns in COLUMNS order, then all but the id again. */
    upsert: `INSERT INTO ${n.recall} (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON DUPLICATE KEY UPDATE task_id = ?, user_id = ?, scenario = ?, created_at = ?, sent_at = ?,
        due_at = ?, reason = ?, attempts = ?`,
    /** now, reason, id. A row a claim holds is waited for, then found gone. */
    expedite: `UPDATE ${n.recall} SET due_at = LEAST(due_at, ?), reason = ? WHERE id = ?`,
    /**
     * now, limit. Rows another claim holds are skipped (MySQL 8.0, MariaDB 10.6), so each goes to
     * one caller. The scan must lock only the rows it returns, in due order: hence the forced
     * index (on a small table the optimizer prefers a full scan), and no `, id` in ORDER BY
     * (MariaDB 10.11 then sorts, locking every row it reads, and a second claim gets none).
     */
    claim: `SELECT ${COLUMNS} FROM ${n.recall} FORCE INDEX (due_at)
      WHERE due_at <= ? ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED`,
    /**
     * One claimed id. One row at a time: an IN list is a range scan, which takes next-key locks
     * on the rows after each id in key order, rows other claims then skip (or wait for: a deadlock).
     */
    remove: `DELETE FROM ${n.recall} WHERE id = ?`,
  };
}

const values = (e: RecallEntry) => {
  const rest = [e.taskId, e.userId, e.scenario, e.createdAt, e.sentAt, e.dueAt, e.reason, e.attempts];
  return [e.verificationId, ...rest, ...rest];
};

const entryOf = (r: RecallRow): RecallEntry => ({
  verificationId: r.id.toString('utf8'),
  taskId: r.task_id,
  userId: r.user_id.toString('utf8'),
  scenario: r.scenario.toString('utf8') as ScenarioName,
  createdAt: Number(r.created_at),
  sentAt: Number(r.sent_at),
  dueAt: Number(r.due_at),
  reason: r.reason as RecallReason,
  attempts: r.attempts,
});

/**
 * The recall due list on MySQL: a table ordered by due_at, claimed with SKIP LOCKED. Scheduling
 * locks the subject's newest-code row first, so two codes of one subject are ordered; the
 * rules are those of the memory store (memory-recalls.ts), run under that lock.
 */
export function mysqlRecalls(
  db: MySqlDb,
  guard: Guard,
  names: MySqlNames,
): Pick<VerificationStore, 'scheduleRecall' | 'expediteRecall' | 'claimDueRecalls' | 'rescheduleRecall'> {
  const sql = recallStatements(names);
  return {
    scheduleRecall: (entry, now) =>
      guard('scheduleRecall', () =>
        db.transaction(async (tx) => {
          const subject = [entry.userId, entry.scenario];
          await tx.query(sql.lockLatest, subject);
          const [row] = await tx.rows<{ id: Buffer; created_at: number | string; live: number }>(
            sql.readLatest,
            subject,
          );
          const current = row?.live
            ? { id: row.id.toString('utf8'), createdAt: Number(row.created_at) }
            : undefined;
          const other = current !== undefined && current.id !== entry.verificationId;
          if (other && current.createdAt > entry.createdAt) {
            // A newer code of the subject is listed already: this one is replaced.
            const replaced = { ...entry, dueAt: Math.min(entry.dueAt, now), reason: 'replaced' as const };
            await tx.query(sql.upsert, values(replaced));
            return;
          }
          if (other) await tx.query(sql.replaceOlder, [now, current.id, now]);
          const keep = Math.ceil(Math.max(0, entry.dueAt - now) + 60_000);
          await tx.query(sql.writeLatest, [entry.verificationId, entry.createdAt, keep, ...subject]);
          await tx.query(sql.upsert, values(entry));
        }),
      ),

    expediteRecall: (id, reason, now) =>
      guard('expediteRecall', async () => (await db.affected(sql.expedite, [now, reason, id])) === 1),

    claimDueRecalls: (now, limit) =>
      guard('claimDueRecalls', () =>
        db.transaction(async (tx) => {
          const rows = await tx.rows<RecallRow>(sql.claim, [now, limit]);
          for (const row of rows) await tx.query(sql.remove, [row.id]);
          return rows.map(entryOf);
        }),
      ),

    rescheduleRecall: (entry) =>
      guard('rescheduleRecall', async () => {
        await db.query(sql.upsert, values(entry));
      }),
  };
}
