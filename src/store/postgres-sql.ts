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
  /** Idempotency keys' records, by the key's hash (see postgres-idempotency.ts). */
  idempotency: string;
  /** The mobile look-up cache: getbymobile's answers by a keyed hash of the number (see postgres-mobiles.ts). */
  mobile: string;
  /** The @keyv/postgres table: it takes the schema and table unquoted, so both must be plain identifiers. */
  kvSchema: string;
  kvTable: string;
  kv: string;
  /** Unqualified prefix for index names (an index lives in its table's schema). */
  indexPrefix: string;
  reserveSend: string;
  /** Several histories at once (see reserveSendsDdl). */
  reserveSends: string;
  /** Failed verifications per subject, across codes, and the functions that count and clear them. */
  failure: string;
  countAttempt: string;
  consumeCode: string;
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
    idempotency: q('idempotency'),
    mobile: q('mobile'),
    kvSchema: schema,
    kvTable: `${tablePrefix}kv`,
    kv: q('kv'),
    indexPrefix: tablePrefix,
    // Versioned so that a replica with different semantics never replaces a running one's function.
    reserveSend: q('reserve_send_v2'),
    reserveSends: q('reserve_sends_v1'),
    failure: q('failure'),
    countAttempt: q('count_attempt_v1'),
    consumeCode: q('consume_code_v1'),
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
${idempotencyDdl(n)}
${reserveSendsDdl(n)}
${mobileDdl(n)}
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
${failureDdl(n)}
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

    /**
     * $1 user ids, $2 scenarios, $3 now, $4 cooldowns, $5 windows, $6 maxima (arrays, one entry
     * per history) → one row (allowed, idx 0-based, reason, retry_at).
     */
    reserveSends: `SELECT allowed, idx, reason, retry_at FROM ${n.reserveSends}($1, $2, $3, $4, $5, $6)`,

    /** Forgets the subject's history (a user's since-success budget after an approval). */
    clearSends: `DELETE FROM ${n.send} WHERE user_id = $1 AND scenario = $2`,

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

    // Counting an attempt and consuming a code: the functions of failureDdl, run by postgres-failures.ts.

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

    /**
     * $1 name, $2 expected (not ''), $3 next → the value in force afterwards; no row when none is
     * stored. The UPDATE waits for a concurrent writer and then compares with the newest value,
     * so RETURNING yields what is in force whether or not it changed it. (From '' the store
     * runs getOrCreateSecret: set-if-absent is the same compare-and-set.)
     */
    replaceSecret: `
      UPDATE ${n.secret} SET value = CASE WHEN value = $2 THEN $3 ELSE value END
      WHERE name = $1 RETURNING value`,

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

    sweep: [n.send, n.code, n.slot, n.delivery, n.login, n.failure]
      .concat(n.recallLatest, n.idempotency, n.mobile)
      .map((t) => `DELETE FROM ${t} WHERE expires_at <= ${NOW_MS}`)
      .join('; '),
  };
}

/** The mobile look-up cache: a userid, or '' for a number DingTalk knows no user by, until expires_at. */
function mobileDdl(n: PostgresNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.mobile} (
  key text PRIMARY KEY,
  dingtalk_user_id text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}mobile_expires_at" ON ${n.mobile} (expires_at);`;
}

/**
 * reserveSends: decideSend over several histories in one transaction. The rows are locked
 * first, in (user, scenario) order so two calls never wait on each other in a circle; then
 * each is judged; only when all allow is `now` recorded in each. A plpgsql statement sees what
 * committed before it, so the locked rows are read at their newest.
 */
function reserveSendsDdl(n: PostgresNames): string {
  return `CREATE OR REPLACE FUNCTION ${n.reserveSends}(
  p_users text[], p_scenarios text[], p_now bigint, p_cooldowns bigint[], p_windows bigint[], p_maxes integer[],
  OUT allowed boolean, OUT idx integer, OUT reason text, OUT retry_at bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  i integer;
  recent bigint[];
  k integer;
BEGIN
  FOR i IN SELECT t.ord FROM unnest(p_users, p_scenarios) WITH ORDINALITY AS t(u, s, ord) ORDER BY t.u, t.s LOOP
    INSERT INTO ${n.send} AS s (user_id, scenario, sends, expires_at)
    VALUES (p_users[i], p_scenarios[i], '{}', p_now)
    ON CONFLICT (user_id, scenario) DO UPDATE SET sends = s.sends;
  END LOOP;
  FOR i IN 1 .. cardinality(p_users) LOOP
    -- From here on this is decideSend (src/domain/policy.ts), step by step.
    SELECT coalesce(array_agg(t ORDER BY t), '{}') INTO recent
    FROM ${n.send} AS s, unnest(CASE WHEN s.expires_at > p_now THEN s.sends ELSE '{}' END) AS t
    WHERE s.user_id = p_users[i] AND s.scenario = p_scenarios[i] AND t > p_now - p_windows[i];
    k := cardinality(recent);
    IF k > 0 AND p_cooldowns[i] > 0 AND p_now - recent[k] < p_cooldowns[i] THEN
      allowed := false; idx := i - 1; reason := 'cooldown'; retry_at := recent[k] + p_cooldowns[i];
      RETURN;
    END IF;
    IF k >= p_maxes[i] THEN
      allowed := false; idx := i - 1; reason := 'quota'; retry_at := recent[k - p_maxes[i] + 1] + p_windows[i];
      RETURN;
    END IF;
  END LOOP;
  FOR i IN 1 .. cardinality(p_users) LOOP
    -- Kept until the newest send (possibly stamped ahead of p_now) leaves the window.
    UPDATE ${n.send} AS s SET
      sends = h.history, expires_at = greatest(p_now, h.history[cardinality(h.history)]) + p_windows[i]
    FROM (
      SELECT array_agg(t ORDER BY t) AS history
      FROM ${n.send} AS o, unnest(array_append(
        ARRAY(SELECT x FROM unnest(CASE WHEN o.expires_at > p_now THEN o.sends ELSE '{}' END) AS x
              WHERE x > p_now - p_windows[i]), p_now)) AS t
      WHERE o.user_id = p_users[i] AND o.scenario = p_scenarios[i]
    ) AS h
    WHERE s.user_id = p_users[i] AND s.scenario = p_scenarios[i];
  END LOOP;
  allowed := true; idx := 0; retry_at := p_now + coalesce(p_cooldowns[1], 0);
END
$fn$;`;
}

/** Idempotency keys: `state` pending (its holder works, until the lease ends) or done (the response is kept). */
function idempotencyDdl(n: PostgresNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.idempotency} (
  key text PRIMARY KEY,
  state text NOT NULL,
  digest text NOT NULL,
  token text NOT NULL,
  response text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}idempotency_expires_at" ON ${n.idempotency} (expires_at);`;
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

/**
 * A subject's failed verifications (see domain/lockout.ts) and the two functions that change
 * them. Both take the code's row lock first and the failure row's second, and no failure row
 * changes without its code's row lock held, so they are ordered among themselves with no
 * deadlock; a plpgsql function's later statements see what committed meanwhile.
 * count_attempt is countAttempt with the rule applied (p_max 0: no failures counted).
 */
function failureDdl(n: PostgresNames): string {
  return `CREATE TABLE IF NOT EXISTS ${n.failure} (
  user_id text NOT NULL,
  scenario text NOT NULL,
  failures integer NOT NULL,
  since bigint NOT NULL,
  locks integer NOT NULL,
  locked_until bigint NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (user_id, scenario)
);
CREATE INDEX IF NOT EXISTS "${n.indexPrefix}failure_expires_at" ON ${n.failure} (expires_at);
CREATE OR REPLACE FUNCTION ${n.countAttempt}(
  p_user text, p_scenario text, p_now bigint, p_max integer, p_window bigint, p_lockout bigint,
  p_max_lockout bigint,
  OUT o_state text, OUT o_id text, OUT o_digest text, OUT o_recipient text, OUT o_created_at bigint,
  OUT o_expires_at bigint, OUT o_max_attempts integer, OUT o_attempts integer, OUT o_locked_until bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  c ${n.code}%ROWTYPE;
  v_failures integer;
  v_since bigint;
  v_locks integer;
  v_until bigint;
BEGIN
  SELECT * INTO c FROM ${n.code} AS k
  WHERE k.user_id = p_user AND k.scenario = p_scenario AND k.expires_at > ${NOW_MS}
  FOR UPDATE;
  SELECT f.failures, f.since, f.locks, f.locked_until INTO v_failures, v_since, v_locks, v_until
  FROM ${n.failure} AS f
  WHERE f.user_id = p_user AND f.scenario = p_scenario AND f.expires_at > ${NOW_MS};
  v_failures := coalesce(v_failures, 0);
  v_since := coalesce(v_since, 0);
  v_locks := coalesce(v_locks, 0);
  v_until := coalesce(v_until, 0);
  IF p_max > 0 AND v_until > p_now THEN
    o_state := 'locked'; o_locked_until := v_until;
    RETURN;
  END IF;
  IF c.id IS NULL THEN
    o_state := 'missing';
    RETURN;
  END IF;
  o_id := c.id;
  IF c.used_at IS NOT NULL THEN
    o_state := 'used';
    RETURN;
  END IF;
  UPDATE ${n.code} AS k SET attempts = k.attempts + 1
  WHERE k.user_id = p_user AND k.scenario = p_scenario
  RETURNING k.attempts INTO o_attempts;
  o_state := 'counted'; o_digest := c.digest; o_recipient := c.recipient; o_created_at := c.created_at;
  o_expires_at := c.code_expires_at; o_max_attempts := c.max_attempts;
  -- isCompared (src/domain/code.ts): only a submission that will be compared is a failure.
  IF p_max = 0 OR p_now >= c.code_expires_at OR o_attempts > c.max_attempts THEN
    RETURN;
  END IF;
  -- From here on this is countFailure (src/domain/lockout.ts), step by step.
  IF v_failures = 0 OR p_now - v_since >= p_window THEN
    v_failures := 1; v_since := p_now;
  ELSE
    v_failures := v_failures + 1;
  END IF;
  IF v_failures >= p_max THEN
    IF v_locks > 0 AND p_now - v_until < p_window THEN v_locks := v_locks + 1; ELSE v_locks := 1; END IF;
    v_failures := 0; v_since := p_now;
    v_until := p_now + least(p_lockout * power(2::double precision, least(v_locks - 1, 40)),
                             p_max_lockout::double precision)::bigint;
    o_locked_until := v_until;
  END IF;
  -- Kept as long as the rule can still look at it (failureRetainUntil).
  INSERT INTO ${n.failure} AS f (user_id, scenario, failures, since, locks, locked_until, expires_at)
  VALUES (p_user, p_scenario, v_failures, v_since, v_locks, v_until,
          ${NOW_MS} + greatest(1, greatest(v_since, v_until) + p_window - p_now))
  ON CONFLICT (user_id, scenario) DO UPDATE SET failures = EXCLUDED.failures, since = EXCLUDED.since,
    locks = EXCLUDED.locks, locked_until = EXCLUDED.locked_until, expires_at = EXCLUDED.expires_at;
END
$fn$;
CREATE OR REPLACE FUNCTION ${n.consumeCode}(p_user text, p_scenario text, p_id text)
RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
  UPDATE ${n.code} SET used_at = ${NOW_MS}
  WHERE user_id = p_user AND scenario = p_scenario AND id = p_id AND used_at IS NULL
    AND expires_at > ${NOW_MS};
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  DELETE FROM ${n.failure} WHERE user_id = p_user AND scenario = p_scenario;
  RETURN true;
END
$fn$;`;
}
