/**
 * The PostgreSQL store's SQL: its tables, its one server-side function and the
 * statements it runs. Times are integer milliseconds since the epoch in `bigint`
 * columns. Every row that can expire has an `expires_at` column that queries filter
 * on and the sweep deletes by. Each atomic operation is a single statement, so
 * PostgreSQL's row lock, not any process, orders concurrent replicas.
 */

/** Schema-qualified, quoted names of everything the store creates. */
export interface PostgresNames {
  schema: string;
  send: string;
  code: string;
  secret: string;
  settings: string;
  slot: string;
  delivery: string;
  /** The recall due list, and each subject's newest code (see postgres-recalls.ts). */
  recall: string;
  recallLatest: string;
  scheduleRecall: string;
  /** Started DingTalk logins, by state key. */
  login: string;
  /** The @keyv/postgres table: it takes the schema and table unquoted, so both must be plain identifiers. */
  kvSchema: string;
  kvTable: string;
  kv: string;
  /** Unqualified prefix for index names (an index lives in its table's schema). */
  indexPrefix: string;
  reserveSend: string;
  /** Key of the transaction-scoped advisory lock that serialises the DDL between replicas. */
  lockKey: string;
}

// Lower-case plain identifiers only: @keyv/postgres splices the names into its SQL unquoted.
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Validates `schema` and `tablePrefix` and derives every name from them. */
export function postgresNames(schema = 'public', tablePrefix = 'gateway_'): PostgresNames {
  if (!IDENTIFIER.test(schema) || schema.length > 63) {
    throw new Error(
      `postgres store: schema must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 63 characters)`,
    );
  }
  if (tablePrefix !== '' && (!IDENTIFIER.test(tablePrefix) || tablePrefix.length > 40)) {
    throw new Error(
      `postgres store: tablePrefix must be a lower-case identifier ([a-z_][a-z0-9_]*, at most 40 characters)`,
    );
  }
  const q = (name: string) => `"${schema}"."${tablePrefix}${name}"`;
  return {
    schema: `"${schema}"`,
    send: q('send'),
    code: q('code'),
    secret: q('secret'),
    settings: q('settings'),
    slot: q('slot'),
    delivery: q('delivery'),
    recall: q('recall'),
    recallLatest: q('recall_latest'),
    scheduleRecall: q('schedule_recall_v1'),
    login: q('login_state'),
    kvSchema: schema,
    kvTable: `${tablePrefix}kv`,
    kv: q('kv'),
    indexPrefix: tablePrefix,
    // Versioned so that a replica with different semantics never replaces a running one's function.
    reserveSend: q('reserve_send_v2'),
    lockKey: `dingtalk-gateway:${schema}.${tablePrefix}`,
  };
}

/** The database's clock in ms: one clock for every replica's retention times. */
export const NOW_MS = `(extract(epoch FROM statement_timestamp()) * 1000)::bigint`;

/**
 * Idempotent DDL, sent as one simple-protocol query so it runs as a single implicit
 * transaction. The advisory lock makes replicas that start together run it one after
 * the other: concurrent CREATE TABLE IF NOT EXISTS or CREATE OR REPLACE FUNCTION can
 * otherwise fail with unique violations on the catalogs ("tuple concurrently updated").
 */
export function schemaDdl(n: PostgresNames): string {
  return `
SELECT pg_advisory_xact_lock(hashtextextended('${n.lockKey}', 0));
CREATE SCHEMA IF NOT EXISTS ${n.schema};
CREATE TABLE IF NOT EXISTS ${n.send} (
  user_id text NOT NULL,
  scenario text NOT NULL,
  sends bigint[] NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (user_id, scenario)
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}send_expires_at" ON ${n.send} (expires_at);
CREATE TABLE IF NOT EXISTS ${n.code} (
  user_id text NOT NULL,
  scenario text NOT NULL,
  id text NOT NULL,
  digest text NOT NULL,
  recipient text NOT NULL,
  created_at bigint NOT NULL,
  code_expires_at bigint NOT NULL,
  max_attempts integer NOT NULL,
  attempts integer NOT NULL,
  used_at bigint,
  expires_at bigint NOT NULL,
  PRIMARY KEY (user_id, scenario)
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}code_expires_at" ON ${n.code} (expires_at);
CREATE TABLE IF NOT EXISTS ${n.slot} (
  name text PRIMARY KEY,
  -- Microseconds since the epoch, unlike the other tables' milliseconds.
  next_start bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}slot_expires_at" ON ${n.slot} (expires_at);
CREATE TABLE IF NOT EXISTS ${n.delivery} (
  id text PRIMARY KEY,
  record jsonb NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}delivery_expires_at" ON ${n.delivery} (expires_at);
${recallDdl(n)}
CREATE TABLE IF NOT EXISTS ${n.login} (
  key text PRIMARY KEY,
  record jsonb NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}login_state_expires_at" ON ${n.login} (expires_at);
CREATE TABLE IF NOT EXISTS ${n.secret} (
  name text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE IF NOT EXISTS ${n.settings} (
  name text PRIMARY KEY,
  version bigint NOT NULL,
  doc jsonb NOT NULL
);
-- The same shape @keyv/postgres creates; made here, under the lock, so its own CREATE is a no-op.
CREATE TABLE IF NOT EXISTS ${n.kv} (
  key VARCHAR(255) PRIMARY KEY,
  value TEXT
);
CREATE OR REPLACE FUNCTION ${n.reserveSend}(
  p_user text, p_scenario text, p_now bigint, p_cooldown bigint, p_window bigint, p_max integer,
  OUT allowed boolean, OUT reason text, OUT retry_at bigint, OUT history bigint[])
LANGUAGE plpgsql AS $fn$
DECLARE
  recent bigint[];
  n integer;
BEGIN
  -- ON CONFLICT DO UPDATE locks the subject's row (creating it if needed) and reads its
  -- newest committed version; the lock is held until the calling statement commits.
  INSERT INTO ${n.send} AS s (user_id, scenario, sends, expires_at)
  VALUES (p_user, p_scenario, '{}', p_now)
  ON CONFLICT (user_id, scenario) DO UPDATE SET sends = s.sends
  RETURNING CASE WHEN s.expires_at > p_now THEN s.sends ELSE '{}' END INTO history;

  -- From here on this is decideSend (src/domain/policy.ts), step by step.
  SELECT coalesce(array_agg(t ORDER BY t), '{}') INTO recent
  FROM unnest(history) AS t
  WHERE t > p_now - p_window;
  n := cardinality(recent);
  history := NULL;
  IF n > 0 AND p_cooldown > 0 AND p_now - recent[n] < p_cooldown THEN
    allowed := false; reason := 'cooldown'; retry_at := recent[n] + p_cooldown;
    RETURN;
  END IF;
  IF n >= p_max THEN
    allowed := false; reason := 'quota'; retry_at := recent[n - p_max + 1] + p_window;
    RETURN;
  END IF;
  SELECT array_agg(t ORDER BY t) INTO history FROM unnest(recent || p_now) AS t;
  -- Kept until the newest send (possibly stamped ahead of p_now) leaves the window.
  UPDATE ${n.send} SET sends = history, expires_at = greatest(p_now, history[n + 1]) + p_window
  WHERE user_id = p_user AND scenario = p_scenario;
  allowed := true; retry_at := p_now + p_cooldown;
END
$fn$;
`;
}

/**
 * Parameters: $1 user id, $2 scenario, then as listed. Under READ COMMITTED an UPDATE
 * (or ON CONFLICT DO UPDATE) that meets a row locked by another transaction waits,
 * then re-checks its WHERE and recomputes its SET on the newest version; that is what
 * makes each of these a compare-and-set.
 */
export function statements(n: PostgresNames) {
  return {
    /** $3 now, $4 cooldown, $5 window, $6 max → one row (allowed, reason, retry_at, history). */
    reserveSend: `SELECT allowed, reason, retry_at, history FROM ${n.reserveSend}($1, $2, $3, $4, $5, $6)`,

    /** $3 the send time. Removes one occurrence only: with no cooldown two sends may share a millisecond. */
    releaseSend: `
      UPDATE ${n.send}
      SET sends = sends[:array_position(sends, $3::bigint) - 1] || sends[array_position(sends, $3::bigint) + 1:]
      WHERE user_id = $1 AND scenario = $2 AND $3::bigint = ANY (sends)`,

    /** $3 id, $4 digest, $5 recipient, $6 createdAt, $7 expiresAt, $8 maxAttempts, $9 retainMs. */
    saveCode: `
      INSERT INTO ${n.code} AS c (user_id, scenario, id, digest, recipient, created_at, code_expires_at,
                                  max_attempts, attempts, used_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, NULL, ${NOW_MS} + $9::bigint)
      ON CONFLICT (user_id, scenario) DO UPDATE SET
        id = EXCLUDED.id, digest = EXCLUDED.digest, recipient = EXCLUDED.recipient,
        created_at = EXCLUDED.created_at, code_expires_at = EXCLUDED.code_expires_at,
        max_attempts = EXCLUDED.max_attempts, attempts = 0, used_at = NULL, expires_at = EXCLUDED.expires_at`,

    /** $3 id. */
    discardCode: `DELETE FROM ${n.code} WHERE user_id = $1 AND scenario = $2 AND id = $3`,

    /** A used code comes back as such, uncounted; the row lock orders this against consumeCode. */
    countAttempt: `
      UPDATE ${n.code} SET attempts = attempts + CASE WHEN used_at IS NULL THEN 1 ELSE 0 END
      WHERE user_id = $1 AND scenario = $2 AND expires_at > ${NOW_MS}
      RETURNING id, digest, recipient, created_at, code_expires_at, max_attempts, attempts, used_at`,

    /** $3 id. Affects one row for exactly one caller: the others re-check `used_at IS NULL` and skip it. */
    consumeCode: `
      UPDATE ${n.code} SET used_at = ${NOW_MS}
      WHERE user_id = $1 AND scenario = $2 AND id = $3 AND used_at IS NULL AND expires_at > ${NOW_MS}`,

    /**
     * $1 name, $2 now, $3 interval, $4 maxWait, all in µs → one row (start_at µs) when booked,
     * none when the next free start is more than $4 away (then `slotStart` tells it).
     * The row is kept a minute past its last booking.
     */
    takeSlot: `
      INSERT INTO ${n.slot} AS s (name, next_start, expires_at)
      VALUES ($1, $2::bigint + $3::bigint, ${NOW_MS} + 60000)
      ON CONFLICT (name) DO UPDATE SET
        next_start = greatest(s.next_start, $2::bigint) + $3::bigint,
        expires_at = ${NOW_MS} + (greatest(s.next_start, $2::bigint) + $3::bigint - $2::bigint) / 1000 + 60000
      WHERE greatest(s.next_start, $2::bigint) - $2::bigint <= $4::bigint
      RETURNING next_start - $3::bigint AS start_at`,

    /** $1 name → the next free start, for a refused booking. */
    slotStart: `SELECT next_start FROM ${n.slot} WHERE name = $1`,

    /** $1 verification id, $2 the record as JSON, $3 retainMs. */
    putDelivery: `
      INSERT INTO ${n.delivery} (id, record, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
      ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at`,

    /** $1 verification id. */
    getDelivery: `SELECT record FROM ${n.delivery} WHERE id = $1 AND expires_at > ${NOW_MS}`,

    /**
     * $1 name, $2 candidate. DO UPDATE rather than DO NOTHING: RETURNING then yields the
     * row already in force (waiting for a concurrent inserter to commit), never nothing.
     */
    getOrCreateSecret: `
      INSERT INTO ${n.secret} AS s (name, value) VALUES ($1, $2)
      ON CONFLICT (name) DO UPDATE SET value = s.value
      RETURNING value`,

    /** $1 state key, $2 the login as JSON, $3 retainMs. Keys are random: the upsert only makes a retry harmless. */
    putLoginState: `
      INSERT INTO ${n.login} (key, record, expires_at) VALUES ($1, $2, ${NOW_MS} + $3::bigint)
      ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at`,

    /** $1 state key. Deletes and returns the row for exactly one caller: a concurrent DELETE waits, then finds it gone. */
    takeLoginState: `DELETE FROM ${n.login} WHERE key = $1 AND expires_at > ${NOW_MS} RETURNING record`,

    readSettings: `SELECT doc FROM ${n.settings} WHERE name = 'runtime'`,

    /** $1 document, $2 its version: stored only when none is. */
    insertSettings: `
      INSERT INTO ${n.settings} (name, version, doc) VALUES ('runtime', $2, $1)
      ON CONFLICT (name) DO NOTHING RETURNING 1`,

    /** $1 expected version, $2 new version, $3 document: a compare-and-set in one statement. */
    updateSettings: `
      UPDATE ${n.settings} SET version = $2, doc = $3 WHERE name = 'runtime' AND version = $1 RETURNING 1`,

    sweep: [n.send, n.code, n.slot, n.delivery, n.login]
      .concat(n.recallLatest)
      .map((t) => `DELETE FROM ${t} WHERE expires_at <= ${NOW_MS}`)
      .join('; '),
  };
}

/**
 * The recall due list: rows claimed by DELETE … FOR UPDATE SKIP LOCKED, and per subject its
 * newest code. schedule_recall locks the subject's row first (INSERT … ON CONFLICT DO UPDATE),
 * so two codes of one subject scheduled at once are ordered; a plpgsql function's later
 * statements see what committed meanwhile.
 */
function recallDdl(n: PostgresNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.recall} (
  id text PRIMARY KEY,
  task_id text NOT NULL,
  user_id text NOT NULL,
  scenario text NOT NULL,
  created_at bigint NOT NULL,
  sent_at bigint NOT NULL,
  due_at bigint NOT NULL,
  reason text NOT NULL,
  attempts integer NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}recall_due_at" ON ${n.recall} (due_at);
CREATE TABLE IF NOT EXISTS ${n.recallLatest} (
  user_id text NOT NULL,
  scenario text NOT NULL,
  id text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (user_id, scenario)
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}recall_latest_expires_at" ON ${n.recallLatest} (expires_at);
CREATE OR REPLACE FUNCTION ${n.scheduleRecall}(
  p_id text, p_task text, p_user text, p_scenario text, p_created bigint, p_sent bigint,
  p_due bigint, p_reason text, p_attempts integer, p_now bigint, p_keep bigint)
RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  cur_id text;
  cur_created bigint;
BEGIN
  INSERT INTO ${n.recallLatest} AS l (user_id, scenario, id, created_at, expires_at)
  VALUES (p_user, p_scenario, p_id, p_created, ${NOW_MS} + p_keep)
  ON CONFLICT (user_id, scenario) DO UPDATE SET id = l.id
  RETURNING CASE WHEN l.expires_at > ${NOW_MS} THEN l.id END, l.created_at INTO cur_id, cur_created;
  IF cur_id IS NOT NULL AND cur_id <> p_id AND cur_created > p_created THEN
    -- A newer code of the subject is already listed: this one is replaced.
    p_due := least(p_due, p_now);
    p_reason := 'replaced';
  ELSE
    IF cur_id IS NOT NULL AND cur_id <> p_id THEN
      UPDATE ${n.recall} SET due_at = p_now, reason = 'replaced'
      WHERE id = cur_id AND reason = 'expired' AND due_at > p_now;
    END IF;
    UPDATE ${n.recallLatest} SET id = p_id, created_at = p_created, expires_at = ${NOW_MS} + p_keep
    WHERE user_id = p_user AND scenario = p_scenario;
  END IF;
  INSERT INTO ${n.recall} (id, task_id, user_id, scenario, created_at, sent_at, due_at, reason, attempts)
  VALUES (p_id, p_task, p_user, p_scenario, p_created, p_sent, p_due, p_reason, p_attempts)
  ON CONFLICT (id) DO UPDATE SET task_id = EXCLUDED.task_id, user_id = EXCLUDED.user_id,
    scenario = EXCLUDED.scenario, created_at = EXCLUDED.created_at, sent_at = EXCLUDED.sent_at,
    due_at = EXCLUDED.due_at, reason = EXCLUDED.reason, attempts = EXCLUDED.attempts;
END
$fn$;`;
}
