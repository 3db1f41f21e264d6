import {
  countFailure,
  DEFAULT_FAILURE_RULE,
  failureRetainUntil,
  isLocked,
  lockDuration,
  NO_FAILURES,
  type FailureRule,
  type FailureState,
} from '../../src/domain/lockout';

const rule: FailureRule = { maxFailures: 3, windowMs: 10_000, lockoutMs: 1_000, maxLockoutMs: 5_000 };

/** Counts `n` failures one ms apart from `at`; returns the state and the times that locked. */
function failures(from: FailureState, at: number, n: number) {
  let state = from;
  const locked: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = countFailure(state, at + i, rule);
    state = r.state;
    if (r.locked) locked.push(at + i);
  }
  return { state, locked };
}

describe('failures across codes', () => {
  it('defaults to 20 failures in 24 hours, a 15-minute lock, at most 24 hours', () => {
    expect(DEFAULT_FAILURE_RULE).toEqual({
      maxFailures: 20,
      windowMs: 86_400_000,
      lockoutMs: 900_000,
      maxLockoutMs: 86_400_000,
    });
  });

  it('locks at exactly maxFailures, and empties the run', () => {
    const { state, locked } = failures(NO_FAILURES, 100, 3);
    expect(locked).toEqual([102]);
    expect(state).toEqual({ failures: 0, since: 102, locks: 1, lockedUntil: 1_102 });
    expect(isLocked(state, 1_101)).toBe(true);
    expect(isLocked(state, 1_102)).toBe(false);
  });

  it('forgets a run older than the window', () => {
    const two = failures(NO_FAILURES, 0, 2).state;
    expect(two).toMatchObject({ failures: 2, since: 0 });
    const later = countFailure(two, 10_000, rule);
    expect(later).toEqual({ state: { failures: 1, since: 10_000, locks: 0, lockedUntil: 0 }, locked: false });
  });

  it('doubles a lock repeated within the window of the last one, up to the maximum', () => {
    expect([1, 2, 3, 4, 5].map((n) => lockDuration(n, rule))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(lockDuration(10_000, DEFAULT_FAILURE_RULE)).toBe(86_400_000);
    let state = NO_FAILURES;
    const lengths: number[] = [];
    let at = 0;
    for (let lock = 0; lock < 5; lock++) {
      ({ state } = failures(state, at, 3));
      lengths.push(state.lockedUntil - (at + 2));
      at = state.lockedUntil; // the next run starts as the lock ends
    }
    expect(lengths).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    // A lock more than a window after the last one ended starts the doubling over.
    ({ state } = failures(state, state.lockedUntil + rule.windowMs, 3));
    expect(state.locks).toBe(1);
  });

  it('is kept until neither the run nor the last lock counts any more', () => {
    expect(failureRetainUntil({ failures: 2, since: 50, locks: 0, lockedUntil: 0 }, rule)).toBe(10_050);
    expect(failureRetainUntil({ failures: 0, since: 50, locks: 2, lockedUntil: 3_000 }, rule)).toBe(13_000);
  });
});
