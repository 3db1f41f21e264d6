import {
  countFailure,
  failureRetainUntil,
  isLocked,
  NO_FAILURES,
  type FailureCheck,
  type FailureState,
} from '../domain/lockout';

/** One subject's failed verifications, kept until they no longer count. */
export interface FailureEntry {
  state: FailureState;
  retainUntil: number;
}

/**
 * Failed verifications per subject key in memory (see domain/lockout.ts). Synchronous, so
 * called inside one of the memory store's operations it is part of that operation's atomic
 * step. `entries` is a Map the store sweeps; `now` is the store's own clock, for retention.
 */
export function createMemoryFailures(entries: Map<string, FailureEntry>, now: () => number) {
  const live = (key: string): FailureEntry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined || entry.retainUntil > now()) return entry;
    entries.delete(key);
    return undefined;
  };
  return {
    /** The end of the subject's lock at `at`, 0 when it is not locked. */
    lockedUntil(key: string, at: number): number {
      const state = live(key)?.state;
      return state !== undefined && isLocked(state, at) ? state.lockedUntil : 0;
    },
    /** Counts one failure; returns the lock's end when it locked the subject. */
    count(key: string, { now: at, rule }: FailureCheck): number | undefined {
      const entry = live(key);
      const { state, locked } = countFailure(entry?.state ?? NO_FAILURES, at, rule);
      // Kept as long as the rule can still look at it, by the store's clock (the caller's may differ).
      const retainUntil = now() + Math.max(1, failureRetainUntil(state, rule) - at);
      // A subject's entry is made once and then updated in place: a new object per wrong code
      // would outlive the young generation and make every failure a copy the collector pays for.
      if (entry === undefined) entries.set(key, { state: { ...state }, retainUntil });
      else {
        Object.assign(entry.state, state);
        entry.retainUntil = retainUntil;
      }
      return locked ? state.lockedUntil : undefined;
    },
    clear(key: string): void {
      entries.delete(key);
    },
  };
}
