import type { Pool } from 'pg';
import type { IdempotencyRecord, VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import { NOW_MS, type PostgresNames } from './postgres-sql';

interface RecordRow {
  claimed: boolean;
  state: 'pending' | 'done';
  digest: string;
  response: string;
}

/** The idempotency statements; each is atomic on its own (the table is in postgres-sql.ts). */
function idempotencyStatements(n: PostgresNames) {
  const expired = `i.expires_at <= ${NOW_MS}`;
  return {
    /**
     * $1 key, $2 digest, $3 token, $4 leaseMs → the row in force, `claimed` when it is ours.
     * A live row is "updated" to itself, so RETURNING yields it (waiting for a concurrent
     * claimer to commit); an expired one is taken over.
     */
    claim: `
      INSERT INTO ${n.idempotency} AS i (key, state, digest, token, response, expires_at)
      VALUES ($1, 'pending', $2, $3, '', ${NOW_MS} + $4::bigint)
      ON CONFLICT (key) DO UPDATE SET
        state = CASE WHEN ${expired} THEN EXCLUDED.state ELSE i.state END,
        digest = CASE WHEN ${expired} THEN EXCLUDED.digest ELSE i.digest END,
        token = CASE WHEN ${expired} THEN EXCLUDED.token ELSE i.token END,
        response = CASE WHEN ${expired} THEN EXCLUDED.response ELSE i.response END,
        expires_at = CASE WHEN ${expired} THEN EXCLUDED.expires_at ELSE i.expires_at END
      RETURNING token = $3 AS claimed, state, digest, response`,

    /** $1 key. */
    get: `SELECT false AS claimed, state, digest, response FROM ${n.idempotency}
          WHERE key = $1 AND expires_at > ${NOW_MS}`,

    /** $1 key, $2 digest, $3 token, $4 response, $5 retainMs → a row when stored. */
    complete: `
      INSERT INTO ${n.idempotency} AS i (key, state, digest, token, response, expires_at)
      VALUES ($1, 'done', $2, $3, $4, ${NOW_MS} + $5::bigint)
      ON CONFLICT (key) DO UPDATE SET state = 'done', digest = EXCLUDED.digest, token = EXCLUDED.token,
        response = EXCLUDED.response, expires_at = EXCLUDED.expires_at
      WHERE i.token = EXCLUDED.token OR ${expired}
      RETURNING 1`,

    /** $1 key, $2 token. */
    release: `DELETE FROM ${n.idempotency} WHERE key = $1 AND token = $2 AND state = 'pending'`,
  };
}

const recordOf = (row: RecordRow): IdempotencyRecord =>
  row.claimed
    ? { state: 'claimed' }
    : row.state === 'done'
      ? { state: 'done', digest: row.digest, response: row.response }
      : { state: 'pending', digest: row.digest };

export function postgresIdempotency(
  pool: Pool,
  guard: Guard,
  names: PostgresNames,
): Pick<
  VerificationStore,
  'claimIdempotency' | 'getIdempotency' | 'completeIdempotency' | 'releaseIdempotency'
> {
  const sql = idempotencyStatements(names);
  return {
    claimIdempotency: (key, claim, leaseMs) =>
      guard('claimIdempotency', async () => {
        const args = [key, claim.digest, claim.token, Math.ceil(leaseMs)];
        return recordOf((await pool.query<RecordRow>(sql.claim, args)).rows[0]);
      }),

    getIdempotency: (key) =>
      guard('getIdempotency', async () => {
        const row = (await pool.query<RecordRow>(sql.get, [key])).rows[0];
        return row === undefined
          ? undefined
          : (recordOf(row) as Exclude<IdempotencyRecord, { state: 'claimed' }>);
      }),

    completeIdempotency: (key, claim, response, retainMs) =>
      guard('completeIdempotency', async () => {
        const args = [key, claim.digest, claim.token, response, Math.ceil(retainMs)];
        return (await pool.query(sql.complete, args)).rowCount === 1;
      }),

    releaseIdempotency: (key, token) =>
      guard('releaseIdempotency', async () => {
        await pool.query(sql.release, [key, token]);
      }),
  };
}
