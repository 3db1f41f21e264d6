import type { Pool } from 'pg';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import { NOW_MS, type PostgresNames } from './postgres-sql';

/** The mobile look-up cache on PostgreSQL: one row per key, expiring by the database's clock. */
export function postgresMobiles(
  pool: Pool,
  guard: Guard,
  n: PostgresNames,
): Pick<VerificationStore, 'getMobileUser' | 'putMobileUser'> {
  const get = `SELECT dingtalk_user_id FROM ${n.mobile} WHERE key = $1 AND expires_at > ${NOW_MS}`;
  const put = `
    INSERT INTO ${n.mobile} (key, dingtalk_user_id, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
    ON CONFLICT (key) DO UPDATE SET dingtalk_user_id = EXCLUDED.dingtalk_user_id, expires_at = EXCLUDED.expires_at`;
  return {
    getMobileUser: (key) =>
      guard(
        'getMobileUser',
        async () => (await pool.query<{ dingtalk_user_id: string }>(get, [key])).rows[0]?.dingtalk_user_id,
      ),

    putMobileUser: (key, dingtalkUserId, ttlMs) =>
      guard('putMobileUser', async () => {
        await pool.query(put, [key, dingtalkUserId, Math.max(1, Math.ceil(ttlMs))]);
      }),
  };
}
