import type { RecallEntry, RecallReason } from '../domain/recall';
import type { ScenarioName } from '../domain/scenario';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { RedisKeys } from './redis-keys';

/**
 * The recall due list on Redis: a sorted set of verification ids scored by due time, the
 * entries' fixed fields as JSON in one hash and their reasons in another, and per subject
 * a small hash naming its newest code. Each operation is one Lua script, so it is atomic
 * across replicas; a claim pops the due members, so no two replicas get the same one.
 */

/**
 * KEYS due, entries, reasons, subject's latest; ARGV id, json, dueAt, createdAt, now, reason,
 * latest's lifetime (ms) → 1 listed as the subject's newest, 0 listed as replaced.
 */
export const SCHEDULE_RECALL = `
local id = ARGV[1]
local now = tonumber(ARGV[5])
local cur = redis.call('HMGET', KEYS[4], 'id', 'createdAt')
redis.call('HSET', KEYS[2], id, ARGV[2])
if cur[1] and cur[1] ~= id and tonumber(cur[2]) > tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[3], id, 'replaced')
  redis.call('ZADD', KEYS[1], math.min(tonumber(ARGV[3]), now), id)
  return 0
end
if cur[1] and cur[1] ~= id then
  local score = redis.call('ZSCORE', KEYS[1], cur[1])
  if score and tonumber(score) > now and redis.call('HGET', KEYS[3], cur[1]) == 'expired' then
    redis.call('ZADD', KEYS[1], ARGV[5], cur[1])
    redis.call('HSET', KEYS[3], cur[1], 'replaced')
  end
end
redis.call('HSET', KEYS[4], 'id', id, 'createdAt', ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[7])
redis.call('HSET', KEYS[3], id, ARGV[6])
redis.call('ZADD', KEYS[1], ARGV[3], id)
return 1
`;

/** KEYS due, reasons; ARGV id, reason, now → 1 when listed. */
export const EXPEDITE_RECALL = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
if tonumber(score) > tonumber(ARGV[3]) then redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`;

/** KEYS due, entries, reasons; ARGV now, limit → flat {id, dueAt, json, reason, …}, removed. */
export const CLAIM_RECALLS = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i = 1, #due, 2 do
  local id = due[i]
  redis.call('ZREM', KEYS[1], id)
  out[#out + 1] = id
  out[#out + 1] = due[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
  out[#out + 1] = redis.call('HGET', KEYS[3], id) or 'expired'
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
return out
`;

/** KEYS due, entries, reasons; ARGV id, json, dueAt, reason. */
export const RESCHEDULE_RECALL = `
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`;

type Run = (script: string, keys: string[], args: Array<string | number>) => Promise<unknown>;

/** The parts of an entry that never change once listed. */
const fixed = (e: RecallEntry): string =>
  JSON.stringify({
    taskId: e.taskId,
    userId: e.userId,
    scenario: e.scenario,
    createdAt: e.createdAt,
    sentAt: e.sentAt,
    attempts: e.attempts,
  });

export function redisRecalls(
  run: Run,
  guard: Guard,
  keys: RedisKeys,
): Pick<VerificationStore, 'scheduleRecall' | 'expediteRecall' | 'claimDueRecalls' | 'rescheduleRecall'> {
  const due = keys.recallDue;
  const entries = keys.recallEntries;
  const reasons = keys.recallReasons;
  return {
    scheduleRecall: (entry, now) =>
      guard('scheduleRecall', async () => {
        const latest = keys.recallLatest(entry);
        const lifetime = Math.max(0, entry.dueAt - now) + 60_000;
        const args = [entry.verificationId, fixed(entry), entry.dueAt, entry.createdAt, now, entry.reason];
        await run(SCHEDULE_RECALL, [due, entries, reasons, latest], [...args, Math.ceil(lifetime)]);
      }),

    expediteRecall: (id, reason, now) =>
      guard(
        'expediteRecall',
        async () => (await run(EXPEDITE_RECALL, [due, reasons], [id, reason, now])) === 1,
      ),

    claimDueRecalls: (now, limit) =>
      guard('claimDueRecalls', async () => {
        const flat = (await run(CLAIM_RECALLS, [due, entries, reasons], [now, limit])) as string[];
        const out: RecallEntry[] = [];
        for (let i = 0; i + 3 < flat.length; i += 4) {
          if (flat[i + 2] === '') continue; // its fields are gone: nothing to recall with
          const f = JSON.parse(flat[i + 2]) as Omit<RecallEntry, 'verificationId' | 'dueAt' | 'reason'>;
          out.push({
            verificationId: flat[i],
            taskId: f.taskId,
            userId: f.userId,
            scenario: f.scenario as ScenarioName,
            createdAt: f.createdAt,
            sentAt: f.sentAt,
            dueAt: Number(flat[i + 1]),
            reason: flat[i + 3] as RecallReason,
            attempts: f.attempts,
          });
        }
        return out;
      }),

    rescheduleRecall: (entry) =>
      guard('rescheduleRecall', async () => {
        const args = [entry.verificationId, fixed(entry), entry.dueAt, entry.reason];
        await run(RESCHEDULE_RECALL, [due, entries, reasons], args);
      }),
  };
}
