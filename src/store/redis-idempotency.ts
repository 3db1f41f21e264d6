import type { IdempotencyRecord, VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';

/**
 * Idempotency keys on Redis: one hash per key (`state` pending or done, `digest`, `token`,
 * `response`) that expires with its lease, then with its retention (PEXPIRE). Each operation
 * is one Lua script, so it is atomic across replicas.
 */

/** KEYS[1] record; ARGV digest, token, leaseMs → {'claimed'} | {state, digest, response}. */
export const CLAIM_IDEMPOTENCY = `
local f = redis.call('HMGET', KEYS[1], 'state', 'digest', 'response')
if f[1] then return {f[1], f[2], f[3] or ''} end
redis.call('HSET', KEYS[1], 'state', 'pending', 'digest', ARGV[1], 'token', ARGV[2], 'response', '')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {'claimed', '', ''}
`;

/** KEYS[1] record; ARGV digest, token, response, retainMs → 1 stored, 0 another holder has the key. */
export const COMPLETE_IDEMPOTENCY = `
local token = redis.call('HGET', KEYS[1], 'token')
if token and token ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'done', 'digest', ARGV[1], 'token', ARGV[2], 'response', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;

/** KEYS[1] record; ARGV token. Deletes a pending record its holder gives up. */
export const RELEASE_IDEMPOTENCY = `
local f = redis.call('HMGET', KEYS[1], 'state', 'token')
if f[1] == 'pending' and f[2] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Run = (script: string, keys: string[], args: Array<string | number>) => Promise<unknown>;
type Raw = (args: string[]) => Promise<unknown>;

const ms = (n: number) => Math.max(1, Math.ceil(n));

export function redisIdempotency(
  run: Run,
  raw: Raw,
  guard: Guard,
  prefix: string,
): Pick<
  VerificationStore,
  'claimIdempotency' | 'getIdempotency' | 'completeIdempotency' | 'releaseIdempotency'
> {
  const keyOf = (key: string) => `${prefix}idempotency:${key}`;
  const recordOf = (state: string, digest: string, response: string): IdempotencyRecord =>
    state === 'claimed'
      ? { state: 'claimed' }
      : state === 'done'
        ? { state: 'done', digest, response }
        : { state: 'pending', digest };
  return {
    claimIdempotency: (key, claim, leaseMs) =>
      guard('claimIdempotency', async () => {
        const args = [claim.digest, claim.token, ms(leaseMs)];
        const [state, digest, response] = (await run(CLAIM_IDEMPOTENCY, [keyOf(key)], args)) as string[];
        return recordOf(state, digest, response);
      }),

    getIdempotency: (key) =>
      guard('getIdempotency', async () => {
        const f = (await raw(['HMGET', keyOf(key), 'state', 'digest', 'response'])) as Array<string | null>;
        if (f[0] === null) return undefined;
        return recordOf(f[0], f[1] ?? '', f[2] ?? '') as Exclude<IdempotencyRecord, { state: 'claimed' }>;
      }),

    completeIdempotency: (key, claim, response, retainMs) =>
      guard(
        'completeIdempotency',
        async () =>
          (await run(
            COMPLETE_IDEMPOTENCY,
            [keyOf(key)],
            [claim.digest, claim.token, response, ms(retainMs)],
          )) === 1,
      ),

    releaseIdempotency: (key, token) =>
      guard('releaseIdempotency', async () => {
        await run(RELEASE_IDEMPOTENCY, [keyOf(key)], [token]);
      }),
  };
}
