/**
 * Failed verifications of one subject (a user in a scenario), counted across codes: a new
 * code does not reset them. NIST SP 800-63B rev. 4 (rate limiting; out-of-band authenticators)
 * says a new out-of-band secret SHALL NOT reset the failed-attempt count, and caps consecutive
 * failures on an account at 100.
 * Pure: every function takes the clock as an argument. Store backends that run this rule
 * atomically elsewhere (a Lua script, a SQL function) must agree with it; the contract suite
 * checks them against it over a random sequence.
 */

/** The limits, in milliseconds. */
export interface FailureRule {
  /** Failed verifications within `windowMs` that lock the subject (CODE_MAX_FAILURES, default 20). */
  maxFailures: number;
  /** How long a run of failures is remembered, from its first (CODE_FAILURE_WINDOW_SECONDS, 24 h). */
  windowMs: number;
  /** The first lock's length (CODE_LOCKOUT_SECONDS, 15 min); each repeated lock doubles it. */
  lockoutMs: number;
  /** The doubling stops here (CODE_MAX_LOCKOUT_SECONDS, 24 h). */
  maxLockoutMs: number;
}

export const DEFAULT_FAILURE_RULE: FailureRule = {
  maxFailures: 20,
  windowMs: 86_400_000,
  lockoutMs: 900_000,
  maxLockoutMs: 86_400_000,
};

/** What a store keeps per subject. Times are ms since the epoch, by the callers' clocks. */
export interface FailureState {
  /** Failed verifications since `since`, the first of them; 0 after a lock. */
  failures: number;
  since: number;
  /** Locks in a row, each begun within `windowMs` of the end of the one before. */
  locks: number;
  /** The end of the latest lock; 0 while there was none. */
  lockedUntil: number;
}

export const NO_FAILURES: FailureState = { failures: 0, since: 0, locks: 0, lockedUntil: 0 };

/** A store's subject-level check of one submission: the clock and the limits. */
export interface FailureCheck {
  now: number;
  rule: FailureRule;
}

export const isLocked = (s: FailureState, now: number): boolean => s.lockedUntil > now;

/** The length of the `locks`-th lock in a row: lockoutMs, doubled per lock, at most maxLockoutMs. */
export const lockDuration = (locks: number, rule: FailureRule): number =>
  Math.min(rule.lockoutMs * 2 ** Math.min(Math.max(locks - 1, 0), 40), rule.maxLockoutMs);

/**
 * Counts one failed verification at `now`. Called for a submission that is about to be
 * compared (counted before the comparison, like the per-code attempt), never while the
 * subject is locked. A run of failures older than the window starts over. The failure that
 * reaches `maxFailures` locks the subject and empties the run; a lock begun within the window
 * after the previous one ended is a repeated lock and lasts twice as long.
 */
export function countFailure(
  s: FailureState,
  now: number,
  rule: FailureRule,
): { state: FailureState; locked: boolean } {
  const fresh = s.failures === 0 || now - s.since >= rule.windowMs;
  const failures = fresh ? 1 : s.failures + 1;
  const since = fresh ? now : s.since;
  if (failures < rule.maxFailures) return { state: { ...s, failures, since }, locked: false };
  const locks = s.locks > 0 && now - s.lockedUntil < rule.windowMs ? s.locks + 1 : 1;
  return {
    state: { failures: 0, since: now, locks, lockedUntil: now + lockDuration(locks, rule) },
    locked: true,
  };
}

/** Until when a store must keep the state: afterwards neither its failures nor its locks count. */
export const failureRetainUntil = (s: FailureState, rule: FailureRule): number =>
  Math.max(s.since, s.lockedUntil) + rule.windowMs;
