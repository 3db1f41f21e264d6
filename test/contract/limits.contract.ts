import { DAY_MS, decideSends, HOUR_MS, type SendRule } from '../../src/domain/policy';
import { SCENARIOS } from '../../src/domain/scenario';
import { isGatewayFailure } from '../../src/domain/errors';
import { createUserBudget } from '../../src/verification/budget';
import type { IdempotencyClaim, SendSubject, VerificationStore } from '../../src/verification/ports';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const many = <T>(n: number, f: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => f(i)));
const claimOf = (token: string, digest = 'digest-1'): IdempotencyClaim => ({ digest, token });

/**
 * The store operations behind idempotent sends and the per-user message budget, registered
 * inside describeStoreContract: `stores()` gives the two instances of the current fixture
 * (the same object for memory), and calls are spread over both.
 */
export function describeLimitsContract(stores: () => { a: VerificationStore; b: VerificationStore }): void {
  let a: VerificationStore;
  let b: VerificationStore;
  const either = (i: number) => (i % 2 === 0 ? a : b);
  beforeEach(() => ({ a, b } = stores()));

  describe('idempotency keys', () => {
    it('lets exactly one of 20 simultaneous claims take a key; the others see it pending with its digest', async () => {
      const found = await many(20, (i) => either(i).claimIdempotency('k1', claimOf(`t${i}`), 60_000));
      expect(found.filter((f) => f.state === 'claimed')).toHaveLength(1);
      expect(found.filter((f) => f.state !== 'claimed')).toEqual(
        Array.from({ length: 19 }, () => ({ state: 'pending', digest: 'digest-1' })),
      );
      expect(await b.getIdempotency('k1')).toEqual({ state: 'pending', digest: 'digest-1' });
      expect(await a.getIdempotency('k2')).toBeUndefined();
    });

    it("stores the holder's response, which every later claim and look-up gets, untouched", async () => {
      expect(await a.claimIdempotency('k1', claimOf('t1'), 60_000)).toEqual({ state: 'claimed' });
      expect(await b.completeIdempotency('k1', claimOf('t2', 'other'), '{"x":2}', 60_000)).toBe(false);
      expect(await b.completeIdempotency('k1', claimOf('t1'), '{"id":"v-1"}', 60_000)).toBe(true);
      const done = { state: 'done', digest: 'digest-1', response: '{"id":"v-1"}' };
      expect(await a.claimIdempotency('k1', claimOf('t3', 'another'), 60_000)).toEqual(done);
      expect(await b.getIdempotency('k1')).toEqual(done);
      await a.releaseIdempotency('k1', 't1'); // done: a release changes nothing
      expect(await b.getIdempotency('k1')).toEqual(done);
    });

    it('frees a key its holder releases, and only its holder', async () => {
      await a.claimIdempotency('k1', claimOf('t1'), 60_000);
      await b.releaseIdempotency('k1', 't2');
      expect(await a.getIdempotency('k1')).toEqual({ state: 'pending', digest: 'digest-1' });
      await b.releaseIdempotency('k1', 't1');
      expect(await a.getIdempotency('k1')).toBeUndefined();
      expect(await b.claimIdempotency('k1', claimOf('t2', 'd2'), 60_000)).toEqual({ state: 'claimed' });
      expect(await a.getIdempotency('k1')).toEqual({ state: 'pending', digest: 'd2' });
    });

    it('frees a key once its lease runs out; the old holder may complete only while nobody took it', async () => {
      await a.claimIdempotency('k1', claimOf('t1'), 150);
      await a.claimIdempotency('k2', claimOf('t1'), 150);
      await sleep(400);
      expect(await b.getIdempotency('k1')).toBeUndefined();
      expect(await b.claimIdempotency('k1', claimOf('t2'), 60_000)).toEqual({ state: 'claimed' });
      expect(await a.completeIdempotency('k1', claimOf('t1'), '{}', 60_000)).toBe(false);
      expect(await a.completeIdempotency('k2', claimOf('t1'), '{"late":true}', 60_000)).toBe(true);
      expect(await b.getIdempotency('k2')).toEqual({
        state: 'done',
        digest: 'digest-1',
        response: '{"late":true}',
      });
    });

    it('forgets a response after its retention', async () => {
      await a.claimIdempotency('k1', claimOf('t1'), 60_000);
      await a.completeIdempotency('k1', claimOf('t1'), '{}', 150);
      await sleep(400);
      expect(await b.getIdempotency('k1')).toBeUndefined();
      expect(await b.claimIdempotency('k1', claimOf('t2'), 60_000)).toEqual({ state: 'claimed' });
    });
  });

  describe('per-user message budget', () => {
    const t0 = 1_700_000_000_000;
    const lifted: SendRule = { cooldownMs: 0, windowMs: HOUR_MS, maxInWindow: 1000 };

    /**
     * One message as SendCode reserves it: the scenario's slot and the user's budget in one
     * reserveSends, on one of the two stores. Resolves to the kind that refused, or 'sent'.
     */
    const sendVia = (store: VerificationStore, budget: { perDay: number; sinceSuccess: number }) => {
      const guard = createUserBudget({ store, budget, audit: () => undefined });
      return async (userId: string, scenario: (typeof SCENARIOS)[number], at: number) => {
        const plan = [{ subject: { userId, scenario }, rule: lifted }, ...guard.reservations(userId)];
        const d = await store.reserveSends(plan, at);
        return d.allowed ? 'sent' : plan[d.index].subject.scenario;
      };
    };

    it('reserves several histories all or none, exactly as decideSends, over a long random sequence', async () => {
      let seed = 11;
      const rnd = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      const plan = [
        {
          subject: { userId: 'u-1', scenario: 'login' as const },
          rule: { cooldownMs: 20_000, windowMs: 600_000, maxInWindow: 3 },
        },
        {
          subject: { userId: 'u-1', scenario: 'user_day' as const },
          rule: { cooldownMs: 0, windowMs: 900_000, maxInWindow: 5 },
        },
        {
          subject: { userId: 'u-1', scenario: 'since_success' as const },
          rule: { cooldownMs: 0, windowMs: 900_000, maxInWindow: 4 },
        },
      ];
      const other = { subject: { userId: 'u-1', scenario: 'two_factor' as const }, rule: plan[0].rule };
      let histories: number[][] = [[], [], [], []];
      let now = t0;
      const outcomes = new Set<string>();
      for (let step = 0; step < 200; step++) {
        now += rnd(10) === 0 ? -rnd(30_000) : rnd(60_000);
        const store = either(rnd(2));
        // Alternate between two scenarios sharing the budget.
        const which = rnd(2) === 0 ? 0 : 3;
        const p = [which === 0 ? plan[0] : other, plan[1], plan[2]];
        const idx = [which, 1, 2];
        const expected = decideSends(
          idx.map((i) => histories[i]),
          now,
          p.map((r) => r.rule),
        );
        expect(await store.reserveSends(p, now)).toEqual(expected.decision);
        outcomes.add(
          expected.decision.allowed ? 'allowed' : `${expected.decision.index}:${expected.decision.reason}`,
        );
        if (expected.decision.allowed) {
          histories = histories.map((h, i) => (idx.includes(i) ? expected.histories[idx.indexOf(i)] : h));
          if (rnd(6) === 0) {
            const r = rnd(3);
            await store.releaseSend(p[r].subject, now);
            const h = histories[idx[r]];
            h.splice(h.indexOf(now), 1);
          }
        }
        if (rnd(25) === 0) {
          await store.clearSends(plan[2].subject);
          histories[2] = [];
        }
      }
      expect([...outcomes].sort()).toEqual(['0:cooldown', '0:quota', '1:quota', '2:quota', 'allowed']);
    });

    it('forgets a whole history on clearSends, and only that one', async () => {
      const rule: SendRule = { cooldownMs: 0, windowMs: DAY_MS, maxInWindow: 1 };
      const since: SendSubject = { userId: 'u-1', scenario: 'since_success' };
      const day: SendSubject = { userId: 'u-1', scenario: 'user_day' };
      expect((await a.reserveSend(since, rule, t0)).allowed).toBe(true);
      expect((await a.reserveSend(day, rule, t0)).allowed).toBe(true);
      expect((await b.reserveSend(since, rule, t0 + 1)).allowed).toBe(false);
      await b.clearSends(since);
      await b.clearSends({ userId: 'u-2', scenario: 'since_success' }); // nothing there: a no-op
      expect((await a.reserveSend(since, rule, t0 + 2)).allowed).toBe(true);
      expect(await a.reserveSend(day, rule, t0 + 2)).toEqual({
        allowed: false,
        reason: 'quota',
        retryAt: t0 + DAY_MS,
      });
    });

    it('lets exactly 30 of 60 simultaneous messages over 5 scenarios through a day budget of 30', async () => {
      const sends = [a, b].map((s) => sendVia(s, { perDay: 30, sinceSuccess: 0 }));
      const outcomes = await many(60, (i) => sends[i % 2]('u-day', SCENARIOS[i % 5], t0 + i));
      expect(outcomes.filter((o) => o === 'sent')).toHaveLength(30);
      expect(outcomes.filter((o) => o === 'user_day')).toHaveLength(30);
      // Nothing refused held a scenario slot: the slots held over the five scenarios are the 30 sent.
      let held = 0;
      for (const scenario of SCENARIOS) {
        const d = await a.reserveSend({ userId: 'u-day', scenario }, lifted, t0 + 100);
        held += d.allowed ? d.history.length - 1 : NaN;
      }
      expect(held).toBe(30);
    });

    it('holds 10 since the last success, starts again after one, and the day budget caps the total', async () => {
      const sends = [a, b].map((s) => sendVia(s, { perDay: 30, sinceSuccess: 10 }));
      const round = async (start: number) => {
        const outcomes = await many(60, (i) => sends[i % 2]('u-since', SCENARIOS[i % 5], start + i));
        return outcomes.reduce<Record<string, number>>((n, o) => ({ ...n, [o]: (n[o] ?? 0) + 1 }), {});
      };
      expect(await round(t0)).toEqual({ sent: 10, since_success: 50 });
      await b.clearSends({ userId: 'u-since', scenario: 'since_success' }); // an approval
      expect(await round(t0 + 1000)).toEqual({ sent: 10, since_success: 50 });
      await a.clearSends({ userId: 'u-since', scenario: 'since_success' });
      expect((await round(t0 + 2000)).sent).toBe(10);
      await a.clearSends({ userId: 'u-since', scenario: 'since_success' });
      expect(await round(t0 + 3000)).toEqual({ user_day: 60 });
    });

    it('tells when the oldest counted message leaves the 24-hour window', async () => {
      const events: Array<[string, Record<string, unknown>]> = [];
      const guard = createUserBudget({
        store: a,
        budget: { perDay: 0, sinceSuccess: 2 },
        audit: (e, f) => events.push([e, f]),
      });
      await guard.reserve('u-1', t0, 'login');
      await guard.reserve('u-1', t0 + 5_000, 'two_factor');
      const err = await guard.reserve('u-1', t0 + 10_000, 'login').catch((e: unknown) => e);
      expect(isGatewayFailure(err) && err.detail).toMatchObject({
        kind: 'rate_limited',
        retryAfterMs: DAY_MS - 10_000,
      });
      expect(events).toEqual([
        ['code.refused', { userId: 'u-1', scenario: 'login', reason: 'since_success', test: true }],
      ]);
      // A day later the oldest no longer counts.
      expect(await guard.reserve('u-1', t0 + DAY_MS + 1, 'login')).toEqual([
        { userId: 'u-1', scenario: 'since_success' },
      ]);
    });
  });
}
