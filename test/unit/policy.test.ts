import { decideSend, HOUR_MS, type SendRule } from '../../src/domain/policy';

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
