import type { VerificationStore } from '../verification/ports';

/** One cached getbymobile answer: a userid, or '' for no such user. */
export interface MobileEntry {
  dingtalkUserId: string;
  retainUntil: number;
}

/**
 * The mobile look-up cache in memory, in a Map the store sweeps. `open` throws when the
 * store is closed.
 */
export function createMemoryMobiles(
  open: (operation: string) => void,
  entries: Map<string, MobileEntry>,
  now: () => number,
): Pick<VerificationStore, 'getMobileUser' | 'putMobileUser'> {
  return {
    async getMobileUser(key) {
      open('getMobileUser');
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.retainUntil > now()) return entry.dingtalkUserId;
      entries.delete(key);
      return undefined;
    },

    async putMobileUser(key, dingtalkUserId, ttlMs) {
      open('putMobileUser');
      entries.set(key, { dingtalkUserId, retainUntil: now() + ttlMs });
    },
  };
}
