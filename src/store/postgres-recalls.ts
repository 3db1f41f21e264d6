import type { Pool } from 'pg';
import type { RecallEntry, RecallReason } from '../domain/recall';
import type { ScenarioName } from '../domain/scenario';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { PostgresNames } from './postgres-sql';

interface RecallRow {
  id: string;
  task_id: string;
  user_id: string;
  scenario: string;
  created_at: string;
  sent_at: string;
  due_at: string;
  reason: string;
  attempts: number;
}

const COLUMNS = 'id, task_id, user_id, scenario, created_at, sent_at, due_at, reason, attempts';

/** The recall statements; each is atomic on its own (the schema is in postgres-sql.ts). */
function recallStatements(n: PostgresNames) {
  return {
    /** $1 id … $9 attempts as the function lists them, $10 now, $11 how long the subject's row is kept. */
    schedule: `SELECT ${n.scheduleRecall}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,

    /** $1 id, $2 reason, $3 now. A row a claim holds is waited for, then found gone. */
    expedite: `UPDATE ${n.recall} SET due_at = least(due_at, $3::bigint), reason = $2 WHERE id = $1`,

    /** $1 now, $2 limit. Rows locked by another claim are skipped, so each goes to one caller. */
    claim: `
      DELETE FROM ${n.recall} WHERE id IN (
        SELECT id FROM ${n.recall} WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING ${COLUMNS}`,

    /** The columns in COLUMNS order. */
    reschedule: `
      INSERT INTO ${n.recall} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
      ON CONFLICT (id) DO UPDATE SET task_id = EXCLUDED.task_id, user_id = EXCLUDED.user_id,
        scenario = EXCLUDED.scenario, created_at = EXCLUDED.created_at, sent_at = EXCLUDED.sent_at,
        due_at = EXCLUDED.due_at, reason = EXCLUDED.reason, attempts = EXCLUDED.attempts`,
  };
}

const values = (e: RecallEntry) => [
  e.verificationId,
  e.taskId,
  e.userId,
  e.scenario,
  e.createdAt,
  e.sentAt,
  e.dueAt,
  e.reason,
  e.attempts,
];

const entryOf = (r: RecallRow): RecallEntry => ({
  verificationId: r.id,
  taskId: r.task_id,
  userId: r.user_id,
  scenario: r.scenario as ScenarioName,
  createdAt: Number(r.created_at),
  sentAt: Number(r.sent_at),
  dueAt: Number(r.due_at),
  reason: r.reason as RecallReason,
  attempts: r.attempts,
});

/** The recall due list on PostgreSQL: a table ordered by due_at, claimed with SKIP LOCKED. */
export function postgresRecalls(
  pool: Pool,
  guard: Guard,
  names: PostgresNames,
): Pick<VerificationStore, 'scheduleRecall' | 'expediteRecall' | 'claimDueRecalls' | 'rescheduleRecall'> {
  const sql = recallStatements(names);
  return {
    scheduleRecall: (entry, now) =>
      guard('scheduleRecall', async () => {
        const keep = Math.ceil(Math.max(0, entry.dueAt - now) + 60_000);
        await pool.query(sql.schedule, [...values(entry), now, keep]);
      }),

    expediteRecall: (id, reason, now) =>
      guard('expediteRecall', async () => (await pool.query(sql.expedite, [id, reason, now])).rowCount === 1),

    claimDueRecalls: (now, limit) =>
      guard('claimDueRecalls', async () => {
        const rows = (await pool.query<RecallRow>(sql.claim, [now, limit])).rows;
        return rows.map(entryOf).sort((a, b) => a.dueAt - b.dueAt);
      }),

    rescheduleRecall: (entry) =>
      guard('rescheduleRecall', async () => {
        await pool.query(sql.reschedule, values(entry));
      }),
  };
}
