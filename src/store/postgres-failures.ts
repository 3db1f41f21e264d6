import type { Pool } from 'pg';
import type { AttemptSnapshot } from '../domain/code';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import { NOW_MS, type PostgresNames } from './postgres-sql';

/** What count_attempt returns (its OUT parameters); bigints come back as strings. */
interface AttemptRow {
  o_state: 'locked' | 'missing' | 'used' | 'counted';
  o_id: string | null;
  o_digest: string;
  o_recipient: string;
  o_created_at: string;
  o_expires_at: string;
  o_max_attempts: number;
  o_attempts: number;
  o_locked_until: string | null;
}

/** The statements over codes and their subjects' failures (the schema is in postgres-sql.ts). */
function failureStatements(n: PostgresNames) {
  return {
    /** $1 user, $2 scenario, $3 now, $4 maxFailures (0: none counted), $5 window, $6 lockout, $7 max lockout. */
    countAttempt: `SELECT * FROM ${n.countAttempt}($1, $2, $3, $4, $5, $6, $7)`,
    /** $3 id → true for exactly one caller: the others wait for its row lock, then find the code used. */
    consumeCode: `SELECT ${n.consumeCode}($1, $2, $3) AS consumed`,
    /** $3 now → the lock's end, no row when the subject is not locked. */
    lockedUntil: `
      SELECT locked_until FROM ${n.failure}
      WHERE user_id = $1 AND scenario = $2 AND locked_until > $3::bigint AND expires_at > ${NOW_MS}`,
  };
}

/** countAttempt, lockedUntil and consumeCode on PostgreSQL: one function call or statement each. */
export function postgresFailures(
  pool: Pool,
  guard: Guard,
  names: PostgresNames,
): Pick<VerificationStore, 'countAttempt' | 'lockedUntil' | 'consumeCode'> {
  const sql = failureStatements(names);
  return {
    countAttempt: (subject, check) =>
      guard('countAttempt', async (): Promise<AttemptSnapshot> => {
        const rule = check?.rule;
        const args = [subject.userId, subject.scenario];
        args.push(
          ...(rule
            ? [check.now, rule.maxFailures, rule.windowMs, rule.lockoutMs, rule.maxLockoutMs]
            : [0, 0, 0, 0, 0]
          ).map(String),
        );
        const row = (await pool.query<AttemptRow>(sql.countAttempt, args)).rows[0];
        if (row.o_state === 'locked') return { state: 'locked', lockedUntil: Number(row.o_locked_until) };
        if (row.o_state === 'missing') return { state: 'missing' };
        if (row.o_state === 'used') return { state: 'used', id: row.o_id! };
        const counted = {
          state: 'counted',
          record: {
            id: row.o_id!,
            digest: row.o_digest,
            recipient: row.o_recipient,
            createdAt: Number(row.o_created_at),
            expiresAt: Number(row.o_expires_at),
            maxAttempts: row.o_max_attempts,
          },
          attempts: row.o_attempts,
        } as const;
        return row.o_locked_until === null
          ? counted
          : { ...counted, lockedUntil: Number(row.o_locked_until) };
      }),

    lockedUntil: (subject, now) =>
      guard('lockedUntil', async () => {
        const rows = (
          await pool.query<{ locked_until: string }>(sql.lockedUntil, [subject.userId, subject.scenario, now])
        ).rows;
        return rows.length === 0 ? 0 : Number(rows[0].locked_until);
      }),

    consumeCode: (subject, id) =>
      guard(
        'consumeCode',
        async () =>
          (await pool.query<{ consumed: boolean }>(sql.consumeCode, [subject.userId, subject.scenario, id]))
            .rows[0].consumed,
      ),
  };
}
