import type { FailureCheck, FailureRule } from '../domain/lockout';
import type { AttemptSnapshot } from '../domain/code';
import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';
import type { RedisKeys } from './redis-keys';

/**
 * Codes' attempts and the subject's failed verifications on Redis. A code is a hash (see
 * redis-scripts.ts); a subject's failures are a hash of their own next to it, under a key
 * derived from the same subject (`fail:` instead of `code:`, same hash slot: redis-keys.ts),
 * because they outlive codes.
 * Counting reads and writes both in one Lua script, so an attempt and its failure are one
 * atomic step across replicas, and one round trip.
 */

/**
 * KEYS code key, failure key; ARGV now, maxFailures, windowMs, lockoutMs, maxLockoutMs
 * (maxFailures 0: no failures counted) → {'locked', lockedUntil} | {'missing'} | {'used', id} |
 * {'counted', id, digest, recipient, createdAt, expiresAt, maxAttempts, attempts, lockedUntil or ''}.
 */
export const COUNT_ATTEMPT = `
local now = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[2], 'failures', 'since', 'locks', 'lockedUntil')
local failures = tonumber(s[1] or '0')
local since = tonumber(s[2] or '0')
local locks = tonumber(s[3] or '0')
local lockedUntil = tonumber(s[4] or '0')
if max > 0 and lockedUntil > now then return {'locked', string.format('%d', lockedUntil)} end
local f = redis.call('HMGET', KEYS[1], 'id', 'digest', 'recipient', 'createdAt', 'expiresAt', 'maxAttempts', 'used')
if not f[1] then return {'missing'} end
if f[7] == '1' then return {'used', f[1]} end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local out = {'counted', f[1], f[2], f[3], f[4], f[5], f[6], tostring(attempts), ''}
-- isCompared (src/domain/code.ts): only a submission that will be compared is a failure.
if max == 0 or now >= tonumber(f[5]) or attempts > tonumber(f[6]) then return out end
-- From here on this is countFailure (src/domain/lockout.ts), step by step.
local window = tonumber(ARGV[3])
if failures == 0 or now - since >= window then
  failures = 1
  since = now
else
  failures = failures + 1
end
if failures >= max then
  if locks > 0 and now - lockedUntil < window then locks = locks + 1 else locks = 1 end
  local d = math.min(tonumber(ARGV[4]) * 2 ^ math.min(locks - 1, 40), tonumber(ARGV[5]))
  failures = 0
  since = now
  lockedUntil = now + d
  out[9] = string.format('%d', lockedUntil)
end
redis.call('HSET', KEYS[2], 'failures', failures, 'since', string.format('%d', since), 'locks', locks,
  'lockedUntil', string.format('%d', lockedUntil))
-- Kept as long as the rule can still look at it (failureRetainUntil).
redis.call('PEXPIRE', KEYS[2], string.format('%d', math.max(1, math.max(since, lockedUntil) + window - now)))
return out
`;

/** KEYS code key, failure key; ARGV id → 1 for exactly one caller, which also clears the failures. */
export const CONSUME_CODE = `
local f = redis.call('HMGET', KEYS[1], 'id', 'used')
if f[1] ~= ARGV[1] or f[2] ~= '0' then return 0 end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('DEL', KEYS[2])
return 1
`;

const NO_RULE = ['0', '0', '0', '0', '0'];

type Run = (script: string, keys: string[], args: Array<string | number>) => Promise<unknown>;

export function redisFailures(
  run: Run,
  send: (args: string[]) => Promise<unknown>,
  guard: Guard,
  names: RedisKeys,
): Pick<VerificationStore, 'countAttempt' | 'lockedUntil' | 'consumeCode'> {
  const keys = names.attempt;
  // The rule's arguments as strings, made again only when the rule changes (it rarely does).
  let ruleOf: FailureRule | undefined;
  let ruleArgs: string[] = [];
  const argsOf = (check: FailureCheck | undefined): string[] => {
    if (!check) return NO_RULE;
    const { rule } = check;
    if (rule !== ruleOf) {
      ruleOf = rule;
      ruleArgs = [rule.maxFailures, rule.windowMs, rule.lockoutMs, rule.maxLockoutMs].map(String);
    }
    return [String(check.now), ...ruleArgs];
  };
  return {
    countAttempt: (subject, check) =>
      guard('countAttempt', async (): Promise<AttemptSnapshot> => {
        const args = argsOf(check);
        const r = (await run(COUNT_ATTEMPT, keys(subject), args)) as string[];
        if (r[0] === 'locked') return { state: 'locked', lockedUntil: Number(r[1]) };
        if (r[0] === 'missing') return { state: 'missing' };
        if (r[0] === 'used') return { state: 'used', id: r[1] };
        // Read by index: destructuring would walk the array's iterator on every call.
        const record = {
          id: r[1],
          digest: r[2],
          recipient: r[3],
          createdAt: Number(r[4]),
          expiresAt: Number(r[5]),
          maxAttempts: Number(r[6]),
        };
        const attempts = Number(r[7]);
        return r[8]
          ? { state: 'counted', record, attempts, lockedUntil: Number(r[8]) }
          : { state: 'counted', record, attempts };
      }),

    lockedUntil: (subject, now) =>
      guard('lockedUntil', async () => {
        const until = Number((await send(['HGET', keys(subject)[1], 'lockedUntil'])) ?? 0);
        return until > now ? until : 0;
      }),

    consumeCode: (subject, id) =>
      guard('consumeCode', async () => (await run(CONSUME_CODE, keys(subject), [id])) === 1),
  };
}
