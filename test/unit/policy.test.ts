import {
  DAY_MS,
  decideSend,
  decideSends,
  HOUR_MS,
  userBudgetRules,
  type SendRule,
} from '../../src/domain/policy';

const rule: SendRule = { cooldownMs: 60_000, windowMs: HOUR_MS, maxInWindow: 3 };

describe('decideSend', () => {
  it('allows the first send and says when the next is allowed', () => {
    expect(decideSend([], 1_000, rule)).toEqual({ allowed: true, history: [1_000], resendAt: 61_000 });
  });

  it('enforces the cooldown first', () => {
    expect(decideSend([1_000], 30_000, rule)).toEqual({
      allowed: false,
      reason: 'cooldown',
      retryAt: 61_000,
    });
    expect(decideSend([1_000], 61_000, rule).allowed).toBe(true);
  });

  it('enforces the rolling-window quota, retrying when the oldest send leaves the window', () => {
    const history = [0, 100_000, 200_000];
    expect(decideSend(history, 300_000, rule)).toEqual({ allowed: false, reason: 'quota', retryAt: HOUR_MS });
    const later = decideSend(history, HOUR_MS + 1, rule);
    expect(later).toEqual({
      allowed: true,
      history: [100_000, 200_000, HOUR_MS + 1],
      resendAt: HOUR_MS + 1 + 60_000,
    });
  });

  it('sorts what it is given', () => {
    expect(decideSend([200_000, 0, 100_000], 300_000, rule)).toMatchObject({
      allowed: false,
      reason: 'quota',
    });
  });

  it('counts a send stamped in the future by a replica whose clock runs ahead', () => {
    expect(decideSend([300_005], 300_000, rule)).toEqual({
      allowed: false,
      reason: 'cooldown',
      retryAt: 360_005,
    });
    const r = { ...rule, cooldownMs: 0 };
    expect(decideSend([300_005], 300_000, r)).toEqual({
      allowed: true,
      history: [300_000, 300_005],
      resendAt: 300_000,
    });
  });

  it('a zero cooldown only applies the quota', () => {
    const r = { ...rule, cooldownMs: 0 };
    expect(decideSend([5], 5, r).allowed).toBe(true);
  });
});

describe('decideSends', () => {
  const rule = (maxInWindow: number, cooldownMs = 0) => ({ cooldownMs, windowMs: 1000, maxInWindow });

  it('allows when every history allows, with the first rule’s resend time, and returns every new history', () => {
    expect(decideSends([[100], []], 500, [rule(2, 50), rule(1)])).toEqual({
      decision: { allowed: true, resendAt: 550 },
      histories: [[100, 500], [500]],
    });
  });

  it('refuses with the first history that refuses, by its index, and records nothing', () => {
    expect(decideSends([[100], [200], [300]], 500, [rule(5), rule(1), rule(0)])).toEqual({
      decision: { allowed: false, index: 1, reason: 'quota', retryAt: 1200 },
      histories: [],
    });
    expect(decideSends([[490]], 500, [rule(5, 60)]).decision).toEqual({
      allowed: false,
      index: 0,
      reason: 'cooldown',
      retryAt: 550,
    });
  });

  it('allows an empty set of histories', () => {
    expect(decideSends([], 500, [])).toEqual({ decision: { allowed: true, resendAt: 500 }, histories: [] });
  });
});

describe('userBudgetRules', () => {
  it('keeps a day window for both budgets and leaves out the ones turned off', () => {
    expect(userBudgetRules({ perDay: 30, sinceSuccess: 10 })).toEqual([
      { kind: 'user_day', rule: { cooldownMs: 0, windowMs: DAY_MS, maxInWindow: 30 } },
      { kind: 'since_success', rule: { cooldownMs: 0, windowMs: DAY_MS, maxInWindow: 10 } },
    ]);
    expect(userBudgetRules({ perDay: 0, sinceSuccess: 0 })).toEqual([]);
  });
});
