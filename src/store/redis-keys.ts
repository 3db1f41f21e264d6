import type { SendSubject, Subject } from '../verification/ports';

/**
 * Key names on Redis, the same for one server, Sentinel and Cluster. A Lua script on a
 * cluster may only touch keys of one hash slot, and Redis hashes only the part of a key
 * between the first `{` and the next `}` (its hash tag) when there is one. So:
 *
 * - everything of one user is tagged with the user, not the scenario: a send reservation
 *   spans the scenario's history and the user's budgets over every scenario (`user_day`,
 *   `since_success`), and counting an attempt touches the code and the failures:
 *   `<prefix>{u:<userId>}:send:<scenario>`, `…:code:<scenario>`, `…:fail:<scenario>`;
 * - the recall due list and its hashes, and each subject's newest-code marker that
 *   scheduling reads with them, share the tag `{recall}`;
 * - every other key is touched alone (bindings, deliveries, secrets, settings, slots, login
 *   states, idempotency keys, mobile look-ups) and keeps the name it had before tags.
 *
 * The `u:` keeps the tag non-empty (`{}` would hash the whole key). A user id holding `}`
 * ends the tag early, the same way in each of that user's keys, so they still share a slot.
 * The prefix must not contain `{`.
 */
export function redisKeys(prefix: string) {
  const user = (userId: string) => `${prefix}{u:${userId}}`;
  return {
    send: (s: SendSubject) => `${user(s.userId)}:send:${s.scenario}`,
    code: (s: Subject) => `${user(s.userId)}:code:${s.scenario}`,
    fail: (s: Subject) => `${user(s.userId)}:fail:${s.scenario}`,
    /** [code, fail]: the keys of counting an attempt, the tag built once. */
    attempt: (s: Subject): [string, string] => {
      const u = user(s.userId);
      return [`${u}:code:${s.scenario}`, `${u}:fail:${s.scenario}`];
    },
    recallDue: `${prefix}{recall}:due`,
    recallEntries: `${prefix}{recall}:entries`,
    recallReasons: `${prefix}{recall}:reasons`,
    recallLatest: (s: Subject) => `${prefix}{recall}:latest:${s.scenario}:${s.userId}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
