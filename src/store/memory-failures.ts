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
  const read = (key: string): FailureState => {
    const entry = entries.get(key);
    if (entry === undefined) return NO_FAILURES;
    if (entry.retainUntil <= now()) {
      entries.delete(key);
      return NO_FAILURES;
    }
    return entry.state;
  };
  return {
    /** The end of the subject's lock at `at`, 0 when it is not locked. */
    lockedUntil(key: string, at: number): number {
      const state = read(key);
      return isLocked(state, at) ? state.lockedUntil : 0;
    },
    /** Counts one failure; returns the lock's end when it locked the subject. */
    count(key: string, { now: at, rule }: FailureCheck): number | undefined {
      const { state, locked } = countFailure(read(key), at, rule);
      // Kept as long as the rule can still look at it, by the store's clock (the caller's may differ).
      const retainMs = Math.max(1, failureRetainUntil(state, rule) - at);
      entries.set(key, { state, retainUntil: now() + retainMs });
      return locked ? state.lockedUntil : undefined;
    },
    clear(key: string): void {
      entries.delete(key);
    },
  };
}
