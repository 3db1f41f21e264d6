/**
 * The Redis store's Lua scripts. Redis runs a script to the end before any other
 * command, so each is atomic across every replica. Times are integer milliseconds,
 * passed and returned as decimal strings (`%d`) so no float formatting creeps in.
 * A send history is a comma-separated list of send times; a code is a hash whose
 * `used` field is '0' or '1'.
 */

/** KEYS[1] send key; ARGV now, cooldownMs, windowMs, maxInWindow → {allowed, reason, retryAt, history}. */
export const RESERVE_SEND = `
local now = tonumber(ARGV[1])
local cooldown = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local recent = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  for t in string.gmatch(raw, '[^,]+') do
    local v = tonumber(t)
    if v > now - window then recent[#recent + 1] = v end
  end
end
table.sort(recent)
-- From here on this is decideSend (src/domain/policy.ts), step by step.
local n = #recent
if n > 0 and cooldown > 0 and now - recent[n] < cooldown then
  return {0, 'cooldown', string.format('%d', recent[n] + cooldown), ''}
end
if n >= max then
  return {0, 'quota', string.format('%d', recent[n - max + 1] + window), ''}
end
recent[n + 1] = now
table.sort(recent)
local parts = {}
for i, v in ipairs(recent) do parts[i] = string.format('%d', v) end
local history = table.concat(parts, ',')
-- Kept until the newest send (possibly stamped ahead of now) leaves the window.
redis.call('SET', KEYS[1], history, 'PX', window + math.max(0, recent[#recent] - now))
return {1, '', string.format('%d', now + cooldown), history}
`;

/** KEYS[1] send key; ARGV the send time. Removes one occurrence: two sends may share a millisecond. */
export const RELEASE_SEND = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local kept = {}
local removed = false
for t in string.gmatch(raw, '[^,]+') do
  if not removed and t == ARGV[1] then removed = true else kept[#kept + 1] = t end
end
if not removed then return 0 end
redis.call('SET', KEYS[1], table.concat(kept, ','), 'KEEPTTL')
return 1
`;

/** KEYS[1] code key; ARGV id, digest, recipient, createdAt, expiresAt, maxAttempts, retainMs. */
export const SAVE_CODE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'digest', ARGV[2], 'recipient', ARGV[3], 'createdAt', ARGV[4],
  'expiresAt', ARGV[5], 'maxAttempts', ARGV[6], 'attempts', 0, 'used', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
`;

/** KEYS[1] code key; ARGV id. */
export const DISCARD_CODE = `
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Counting an attempt and consuming a code, with the subject's failures: redis-failures.ts.

/** KEYS[1] secret key; ARGV candidate → the value in force. */
export const GET_OR_CREATE_SECRET = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`;

/** KEYS[1] secret key; ARGV expected ('' for none), next → the value in force afterwards. */
export const REPLACE_SECRET = `
local v = redis.call('GET', KEYS[1]) or ''
if v ~= ARGV[1] then return v end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
`;

/** KEYS[1] settings hash; ARGV expected version, new version, document → 1 when stored. */
export const WRITE_SETTINGS = `
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'doc', ARGV[3])
return 1
`;

/** KEYS[1] schedule key; ARGV now, interval, maxWait, all in µs → {reserved, startAt µs}. */
export const TAKE_SLOT = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local start = tonumber(redis.call('GET', KEYS[1]) or '0')
if start < now then start = now end
if start - now > tonumber(ARGV[3]) then return {0, string.format('%d', start)} end
redis.call('SET', KEYS[1], string.format('%d', start + interval), 'PX', math.ceil((start + interval - now) / 1000) + 1000)
return {1, string.format('%d', start)}
`;

// DingTalk login states (binding through DingTalk login).

/**
 * KEYS[1] login state key → the stored record, or nil; the key is gone afterwards, so
 * exactly one caller gets it. GETDEL would do the same from Redis 6.2 on; a script also
 * runs on older servers.
 */
export const TAKE_LOGIN_STATE = `
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v
`;

// Several send histories reserved together (a scenario's limits and the user's budget).

/**
 * KEYS the send keys; ARGV now, then cooldownMs, windowMs, maxInWindow per key →
 * {1, resendAt} when every history allows (now is recorded in each), else
 * {0, index (0-based), reason, retryAt} for the first that refuses, and nothing is recorded.
 * Each history is decideSend (src/domain/policy.ts) as RESERVE_SEND runs it.
 */
export const RESERVE_SENDS = `
local now = tonumber(ARGV[1])
local histories = {}
for i, key in ipairs(KEYS) do
  local cooldown = tonumber(ARGV[3 * i - 1])
  local window = tonumber(ARGV[3 * i])
  local max = tonumber(ARGV[3 * i + 1])
  local recent = {}
  local raw = redis.call('GET', key)
  if raw then
    for t in string.gmatch(raw, '[^,]+') do
      local v = tonumber(t)
      if v > now - window then recent[#recent + 1] = v end
    end
  end
  table.sort(recent)
  local n = #recent
  if n > 0 and cooldown > 0 and now - recent[n] < cooldown then
    return {0, i - 1, 'cooldown', string.format('%d', recent[n] + cooldown)}
  end
  if n >= max then
    return {0, i - 1, 'quota', string.format('%d', recent[n - max + 1] + window)}
  end
  recent[n + 1] = now
  table.sort(recent)
  histories[i] = recent
end
for i, key in ipairs(KEYS) do
  local recent = histories[i]
  local parts = {}
  for j, v in ipairs(recent) do parts[j] = string.format('%d', v) end
  redis.call('SET', key, table.concat(parts, ','), 'PX', tonumber(ARGV[3 * i]) + math.max(0, recent[#recent] - now))
end
return {1, 0, '', string.format('%d', now + tonumber(ARGV[2]))}
`;
