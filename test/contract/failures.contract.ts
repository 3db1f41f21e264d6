import { isCompared, type AttemptSnapshot, type CodeRecord } from '../../src/domain/code';
import {
  countFailure,
  isLocked,
  NO_FAILURES,
  type FailureRule,
  type FailureState,
} from '../../src/domain/lockout';
import type { Subject, VerificationStore } from '../../src/verification/ports';

const subject: Subject = { userId: 'u:7@corp', scenario: 'login' };
const t0 = 1_700_000_000_000;
const record = (id: string, over: Partial<CodeRecord> = {}): CodeRecord => ({
  id,
  digest: 'cd'.repeat(32),
  recipient: 'dt-1',
  createdAt: t0,
  expiresAt: t0 + 86_400_000,
  maxAttempts: 10,
  ...over,
});
const many = <T>(n: number, f: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => f(i)));

/** What a batch of snapshots says: compared and not locking, locking (with the lock's end), refused as locked. */
function tally(snapshots: AttemptSnapshot[]) {
  const counted = snapshots.filter((s) => s.state === 'counted');
  return {
    failed: counted.filter((s) => s.lockedUntil === undefined).length,
    locking: counted.filter((s) => s.lockedUntil !== undefined).map((s) => s.lockedUntil),
    locked: snapshots.filter((s) => s.state === 'locked').length,
  };
}

/**
 * Failed verifications counted across codes (domain/lockout.ts) in the same atomic step as
 * the attempt, registered inside describeStoreContract: `stores()` gives the two instances of
 * the current fixture (the same object for memory), and calls are spread over both.
 */
export function describeFailuresContract(stores: () => { a: VerificationStore; b: VerificationStore }): void {
  let a: VerificationStore;
  let b: VerificationStore;
  const either = (i: number) => (i % 2 === 0 ? a : b);
  beforeEach(() => ({ a, b } = stores()));

  describe('failures across codes', () => {
    const rule: FailureRule = {
      maxFailures: 95,
      windowMs: 86_400_000,
      lockoutMs: 900_000,
      maxLockoutMs: 86_400_000,
    };

    it('locks at exactly maxFailures over 100 simultaneous wrong guesses on 10 successive codes', async () => {
      const batches: AttemptSnapshot[][] = [];
      for (let k = 0; k < 10; k++) {
        await either(k).saveCode(subject, record(`c${k}`), 3_600_000);
        batches.push(await many(10, (i) => either(i).countAttempt(subject, { now: t0 + k * 100 + i, rule })));
      }
      // Codes 0-8: ten compared failures each; code 9: four, the one that locks, then five refused.
      expect(batches.slice(0, 9).map(tally)).toEqual(Array(9).fill({ failed: 10, locking: [], locked: 0 }));
      const last = tally(batches[9]);
      expect({ failed: last.failed, locked: last.locked, locks: last.locking.length }).toEqual({
        failed: 4,
        locked: 5,
        locks: 1,
      });
      const until = last.locking[0]!;
      expect(until).toBeGreaterThanOrEqual(t0 + 900 + 900_000);
      expect(until).toBeLessThan(t0 + 910 + 900_000);
      for (const s of batches[9]) if (s.state === 'locked') expect(s.lockedUntil).toBe(until);
      // A code sent while locked is refused too, by either replica; nothing counted it.
      await a.saveCode(subject, record('c10'), 3_600_000);
      expect(await b.countAttempt(subject, { now: t0 + 2_000, rule })).toEqual({
        state: 'locked',
        lockedUntil: until,
      });
      expect(await a.lockedUntil(subject, t0 + 2_000)).toBe(until);
      expect(await b.lockedUntil(subject, until)).toBe(0);
      expect(await a.countAttempt(subject, { now: until, rule })).toEqual({
        state: 'counted',
        record: record('c10'),
        attempts: 1,
      });
    });

    it('clears the count on an approval, so the limit starts over', async () => {
      const small = { ...rule, maxFailures: 20 };
      await a.saveCode(subject, record('c1'), 3_600_000);
      const before = await many(10, (i) => either(i).countAttempt(subject, { now: t0 + i, rule: small }));
      expect(tally(before)).toEqual({ failed: 10, locking: [], locked: 0 });
      await b.saveCode(subject, record('c2'), 3_600_000);
      expect(
        tally(await many(9, (i) => either(i).countAttempt(subject, { now: t0 + 50 + i, rule: small }))),
      ).toEqual({ failed: 9, locking: [], locked: 0 });
      // The 20th failure would lock; a right code is approved instead.
      expect(await a.countAttempt(subject, { now: t0 + 70, rule: small })).toMatchObject({
        state: 'counted',
        lockedUntil: t0 + 70 + 900_000,
      });
      expect(await b.consumeCode(subject, 'c2')).toBe(true);
      expect(await a.lockedUntil(subject, t0 + 71)).toBe(0);
      await a.saveCode(subject, record('c3', { maxAttempts: 30 }), 3_600_000);
      const after = await many(20, (i) =>
        either(i).countAttempt(subject, { now: t0 + 100 + i, rule: small }),
      );
      expect(tally(after)).toEqual({ failed: 19, locking: [expect.any(Number)], locked: 0 });
    });

    it('keeps subjects apart, and counts nothing without a check', async () => {
      const tiny = { ...rule, maxFailures: 1 };
      await a.saveCode(subject, record('c1'), 3_600_000);
      await a.saveCode({ ...subject, scenario: 'two_factor' }, record('c2'), 3_600_000);
      expect(await a.countAttempt(subject)).toMatchObject({ state: 'counted', attempts: 1 });
      expect(await a.lockedUntil(subject, t0)).toBe(0);
      expect(await b.countAttempt(subject, { now: t0, rule: tiny })).toMatchObject({
        state: 'counted',
        lockedUntil: t0 + 900_000,
      });
      expect(await a.lockedUntil({ ...subject, scenario: 'two_factor' }, t0)).toBe(0);
      expect(await a.lockedUntil({ ...subject, userId: 'u:8@corp' }, t0)).toBe(0);
      expect(
        (await b.countAttempt({ ...subject, scenario: 'two_factor' }, { now: t0, rule: tiny })).state,
      ).toBe('counted');
    });

    it('counts only submissions that are compared: not an expired code, not one past its attempts, not a used one', async () => {
      const two = { ...rule, maxFailures: 2 };
      await a.saveCode(subject, record('c1', { expiresAt: t0 + 10, maxAttempts: 1 }), 3_600_000);
      expect((await a.countAttempt(subject, { now: t0, rule: two })).state).toBe('counted'); // failure 1
      expect(await b.countAttempt(subject, { now: t0 + 1, rule: two })).toMatchObject({ attempts: 2 }); // past attempts
      expect(await b.countAttempt(subject, { now: t0 + 10, rule: two })).toMatchObject({ attempts: 3 }); // expired
      expect(await a.lockedUntil(subject, t0 + 10)).toBe(0);
      await a.saveCode(subject, record('c2'), 3_600_000);
      expect(await a.consumeCode(subject, 'c2')).toBe(true);
      expect(await b.countAttempt(subject, { now: t0 + 11, rule: two })).toEqual({ state: 'used', id: 'c2' });
      expect(await b.countAttempt({ ...subject, userId: 'nobody' }, { now: t0, rule: two })).toEqual({
        state: 'missing',
      });
    });

    it('doubles a repeated lock up to the maximum, is not extended by probing, and ends', async () => {
      const short: FailureRule = {
        maxFailures: 3,
        windowMs: 3_600_000,
        lockoutMs: 60_000,
        maxLockoutMs: 200_000,
      };
      await a.saveCode(subject, record('c1', { maxAttempts: 100 }), 3_600_000);
      let at = t0;
      const lengths: number[] = [];
      for (let lock = 0; lock < 4; lock++) {
        let until = 0;
        for (let i = 0; i < 3; i++) {
          const s = await either(i).countAttempt(subject, { now: at + i, rule: short });
          if (s.state === 'counted' && s.lockedUntil !== undefined) until = s.lockedUntil;
        }
        lengths.push(until - (at + 2));
        // Probes while locked change nothing, however many.
        for (let p = 1; p <= 5; p++) {
          expect(await either(p).countAttempt(subject, { now: at + 2 + p * 1_000, rule: short })).toEqual({
            state: 'locked',
            lockedUntil: until,
          });
        }
        expect(await b.lockedUntil(subject, until - 1)).toBe(until);
        expect(await a.lockedUntil(subject, until)).toBe(0);
        at = until;
      }
      expect(lengths).toEqual([60_000, 120_000, 200_000, 200_000]);
      // Attempts were counted only outside the locks: 4 locks × 3 failures.
      expect(await a.countAttempt(subject, { now: at, rule: short })).toMatchObject({ attempts: 13 });
    });

    it('orders simultaneous counts and consumes of one code without losing a count or deadlocking', async () => {
      const big = { ...rule, maxFailures: 100 };
      await a.saveCode(subject, record('c1', { maxAttempts: 100 }), 3_600_000);
      const results = await many<AttemptSnapshot | boolean>(40, (i) =>
        i % 8 === 7
          ? either(i).consumeCode(subject, 'c1')
          : either(i).countAttempt(subject, { now: t0 + i, rule: big }),
      );
      expect(results.filter((r) => r === true)).toHaveLength(1);
      expect(await a.lockedUntil(subject, t0 + 50)).toBe(0);
    });

    it('follows the domain rule exactly over a long random sequence of codes, guesses and approvals', async () => {
      let seed = 11;
      const rnd = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return Math.floor(seed / 65_536) % n; // the high bits: an LCG's low ones repeat quickly
      };
      // Whole seconds only, so no stored state is within a second of no longer counting (retention
      // runs on the store's own clock, the rule on the callers').
      const r: FailureRule = { maxFailures: 4, windowMs: 600_000, lockoutMs: 20_000, maxLockoutMs: 120_000 };
      let code: { record: CodeRecord; attempts: number; used: boolean } | undefined;
      let failures: FailureState = NO_FAILURES;
      let now = t0;
      let n = 0;
      let mostLocks = 0;
      const seen = new Set<string>();
      for (let step = 0; step < 300; step++) {
        now += 1000 * (rnd(6) === 0 ? rnd(120) : rnd(8) + 1);
        const store = either(rnd(2));
        const op = rnd(20);
        if (op < 2) {
          const saved = record(`r${++n}`, {
            expiresAt: now + 1000 * (30 + rnd(300)),
            maxAttempts: 2 + rnd(5),
          });
          await store.saveCode(subject, saved, 3_600_000);
          code = { record: saved, attempts: 0, used: false };
        } else if (op < 3) {
          const id = code && rnd(4) > 0 ? code.record.id : 'other';
          const ok = code !== undefined && !code.used && code.record.id === id;
          expect(await store.consumeCode(subject, id)).toBe(ok);
          if (ok) {
            code!.used = true;
            failures = NO_FAILURES;
            seen.add('approved');
          }
        } else if (op < 4) {
          expect(await store.lockedUntil(subject, now)).toBe(
            isLocked(failures, now) ? failures.lockedUntil : 0,
          );
        } else {
          let expected: AttemptSnapshot;
          if (isLocked(failures, now)) expected = { state: 'locked', lockedUntil: failures.lockedUntil };
          else if (code === undefined) expected = { state: 'missing' };
          else if (code.used) expected = { state: 'used', id: code.record.id };
          else {
            code.attempts += 1;
            expected = { state: 'counted', record: code.record, attempts: code.attempts };
            if (isCompared(code.record, code.attempts, now)) {
              const counted = countFailure(failures, now, r);
              failures = counted.state;
              mostLocks = Math.max(mostLocks, failures.locks);
              if (counted.locked) expected = { ...expected, lockedUntil: failures.lockedUntil };
            }
          }
          seen.add(expected.state === 'counted' && expected.lockedUntil ? 'locking' : expected.state);
          expect({ step, got: await store.countAttempt(subject, { now, rule: r }) }).toEqual({
            step,
            got: expected,
          });
        }
      }
      expect([...seen].sort()).toEqual(['approved', 'counted', 'locked', 'locking', 'missing', 'used']);
      expect(mostLocks).toBeGreaterThan(1);
    });
  });

  describe('secret rotation', () => {
    it('replaces a secret only from the value in force, for exactly one of 20 simultaneous callers', async () => {
      expect(await a.replaceSecret('ring', 'v0', 'v1')).toBe('');
      expect(await b.replaceSecret('ring', '', 'v0')).toBe('v0');
      expect(await a.replaceSecret('ring', '', 'other')).toBe('v0');
      expect(await b.getOrCreateSecret('ring', 'ignored')).toBe('v0');
      const won = await many(20, (i) => either(i).replaceSecret('ring', 'v0', `v1-${i}`));
      expect(new Set(won).size).toBe(1);
      expect(await a.getOrCreateSecret('ring', 'ignored')).toBe(won[0]);
      expect(await b.replaceSecret('ring', 'v0', 'late')).toBe(won[0]);
      expect(await a.replaceSecret('other', 'x', 'y')).toBe('');
      expect(await a.getOrCreateSecret('other', 'z')).toBe('z');
    });
  });
}
