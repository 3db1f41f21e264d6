import type { VerificationStore } from '../verification/ports';

type IdempotencyMethods = Pick<
  VerificationStore,
  'claimIdempotency' | 'getIdempotency' | 'completeIdempotency' | 'releaseIdempotency'
>;

/** One idempotency key's record: pending while its holder works, done with the response it stored. */
export interface IdempotencyEntry {
  state: 'pending' | 'done';
  digest: string;
  token: string;
  response: string;
  retainUntil: number;
}

/**
 * Idempotency keys in memory. Each method runs synchronously between two awaits, so each is
 * atomic as the memory store's others. `open` throws when the store is closed; `entries` is a
 * Map the store sweeps.
 */
export function createMemoryIdempotency(
  open: (operation: string) => void,
  entries: Map<string, IdempotencyEntry>,
  now: () => number,
): IdempotencyMethods {
  const live = (key: string): IdempotencyEntry | undefined => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.retainUntil <= now()) entries.delete(key);
    return entries.get(key);
  };
  return {
    async claimIdempotency(key, claim, leaseMs) {
      open('claimIdempotency');
      const entry = live(key);
      if (entry === undefined) {
        entries.set(key, { state: 'pending', ...claim, response: '', retainUntil: now() + leaseMs });
        return { state: 'claimed' };
      }
      return entry.state === 'done'
        ? { state: 'done', digest: entry.digest, response: entry.response }
        : { state: 'pending', digest: entry.digest };
    },

    async getIdempotency(key) {
      open('getIdempotency');
      const entry = live(key);
      if (entry === undefined) return undefined;
      return entry.state === 'done'
        ? { state: 'done', digest: entry.digest, response: entry.response }
        : { state: 'pending', digest: entry.digest };
    },

    async completeIdempotency(key, claim, response, retainMs) {
      open('completeIdempotency');
      const entry = live(key);
      if (entry !== undefined && entry.token !== claim.token) return false;
      entries.set(key, { state: 'done', ...claim, response, retainUntil: now() + retainMs });
      return true;
    },

    async releaseIdempotency(key, token) {
      open('releaseIdempotency');
      const entry = live(key);
      if (entry?.state === 'pending' && entry.token === token) entries.delete(key);
    },
  };
}
