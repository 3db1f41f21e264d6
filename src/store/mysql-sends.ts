import { decideSend, decideSends, type SendDecision, type SendsDecision } from '../domain/policy';
import type { SendSubject, VerificationStore } from '../verification/ports';
import { subjectKey, toMicros } from './keys';
import type { Guard } from './keyv-bindings';
import type { MySqlDb, MySqlQueries } from './mysql-db';
import { NOW_MS, type MySqlNames } from './mysql-sql';

type SendMethods = Pick<
  VerificationStore,
  'reserveSend' | 'releaseSend' | 'reserveSends' | 'clearSends' | 'takeSlot'
>;

function sendStatements(n: MySqlNames) {
  return {
    /** user, scenario: creates (expired, empty) or locks a send history. */
    lock: `INSERT INTO ${n.send} (user_id, scenario, sends, expires_at) VALUES (?, ?, '[]', 0)
      ON DUPLICATE KEY UPDATE expires_at = expires_at`,
    /** user, scenario. */
    read: `SELECT sends FROM ${n.send} WHERE user_id = ? AND scenario = ? FOR UPDATE`,
    /** rows of (user, scenario, '[]', 0): several histories created or locked, in the order given. */
    lockMany: `INSERT INTO ${n.send} (user_id, scenario, sends, expires_at) VALUES ?
      ON DUPLICATE KEY UPDATE expires_at = expires_at`,
    /**
     * (user, scenario) pairs. A plain read of rows this transaction has locked: its snapshot
     * starts at this read, after the locks were granted, so it sees their newest versions; a
     * locking read of an IN list would take next-key locks on the rows between.
     */
    readMany: `SELECT user_id, scenario, sends FROM ${n.send} WHERE (user_id, scenario) IN (?)`,
    /** sends, expires_at, user, scenario. */
    write: `UPDATE ${n.send} SET sends = ?, expires_at = ? WHERE user_id = ? AND scenario = ?`,
    /** sends, user, scenario. */
    release: `UPDATE ${n.send} SET sends = ? WHERE user_id = ? AND scenario = ?`,
    clear: `DELETE FROM ${n.send} WHERE user_id = ? AND scenario = ?`,

    /** name: creates (idle) or locks a call schedule. */
    lockSlot: `INSERT INTO ${n.slot} (name, next_start, expires_at) VALUES (?, 0, 0)
      ON DUPLICATE KEY UPDATE next_start = next_start`,
    readSlot: `SELECT next_start FROM ${n.slot} WHERE name = ? FOR UPDATE`,
    /** next start µs, ms to keep from now, name. */
    writeSlot: `UPDATE ${n.slot} SET next_start = ?, expires_at = ${NOW_MS} + ? WHERE name = ?`,
  };
}

const key = (s: SendSubject): [string, string] => [s.userId, s.scenario];

/**
 * Send histories and call schedules on MySQL. Each operation is one transaction that locks its
 * rows first, then applies the domain's own rule to what it read (decideSend, decideSends), so
 * it agrees with the memory store by construction. A history is a JSON array of send times.
 */
export function mysqlSends(db: MySqlDb, guard: Guard, names: MySqlNames): SendMethods {
  const sql = sendStatements(names);
  const history = async (tx: MySqlQueries, subject: SendSubject): Promise<number[]> => {
    const [row] = await tx.rows<{ sends: string }>(sql.read, key(subject));
    return JSON.parse(row?.sends ?? '[]') as number[];
  };
  // Kept until the newest send (possibly stamped ahead of now) leaves the window.
  const record = (tx: MySqlQueries, subject: SendSubject, sends: number[], now: number, windowMs: number) =>
    tx.query(sql.write, [JSON.stringify(sends), Math.max(now, ...sends) + windowMs, ...key(subject)]);

  return {
    reserveSend: (subject, rule, now) =>
      guard('reserveSend', () =>
        db.transaction(async (tx): Promise<SendDecision> => {
          await tx.query(sql.lock, key(subject));
          const decision = decideSend(await history(tx, subject), now, rule);
          if (decision.allowed) await record(tx, subject, decision.history, now, rule.windowMs);
          return decision;
        }),
      ),

    releaseSend: (subject, at) =>
      guard('releaseSend', () =>
        db.transaction(async (tx) => {
          const sends = await history(tx, subject);
          // One occurrence only: with no cooldown two sends may share a millisecond.
          const i = sends.indexOf(at);
          if (i < 0) return;
          sends.splice(i, 1);
          await tx.query(sql.release, [JSON.stringify(sends), ...key(subject)]);
        }),
      ),

    reserveSends: (reservations, now) =>
      guard('reserveSends', () =>
        db.transaction(async (tx): Promise<SendsDecision> => {
          const rules = reservations.map((r) => r.rule);
          if (reservations.length === 0) return decideSends([], now, rules).decision;
          // Created or locked in one statement, in key order, so two calls sharing histories
          // never wait on each other in a circle.
          const order = [...reservations].sort((x, y) =>
            subjectKey(x.subject) < subjectKey(y.subject) ? -1 : 1,
          );
          await tx.query(sql.lockMany, [order.map((r) => [...key(r.subject), '[]', 0])]);
          const rows = await tx.rows<{ user_id: Buffer; scenario: Buffer; sends: string }>(sql.readMany, [
            reservations.map((r) => key(r.subject)),
          ]);
          const found = new Map(
            rows.map((r) => [`${r.scenario.toString()}:${r.user_id.toString()}`, r.sends]),
          );
          const histories = reservations.map(
            (r) => JSON.parse(found.get(subjectKey(r.subject)) ?? '[]') as number[],
          );
          const result = decideSends(histories, now, rules);
          if (result.decision.allowed) {
            for (const [i, r] of reservations.entries())
              await record(tx, r.subject, result.histories[i], now, r.rule.windowMs);
          }
          return result.decision;
        }),
      ),

    clearSends: (subject) =>
      guard('clearSends', async () => {
        await db.query(sql.clear, key(subject));
      }),

    takeSlot: (name, intervalMs, now, maxWaitMs) =>
      guard('takeSlot', () =>
        db.transaction(async (tx) => {
          await tx.query(sql.lockSlot, [name]);
          const [row] = await tx.rows<{ next_start: number | string }>(sql.readSlot, [name]);
          // In whole microseconds, so intervals under a millisecond stay exact.
          const at = toMicros(now);
          const start = Math.max(Number(row?.next_start ?? 0), at);
          if (start - at > toMicros(maxWaitMs)) return { reserved: false, startAt: start / 1000 };
          const next = start + toMicros(intervalMs);
          // Kept a minute past its last booking.
          await tx.query(sql.writeSlot, [next, Math.ceil((next - at) / 1000) + 60_000, name]);
          return { reserved: true, startAt: start / 1000 };
        }),
      ),
  };
}
