import type { CodeRecord } from '../../src/domain/code';
import { isGatewayFailure } from '../../src/domain/errors';
import { decideSend, type SendRule } from '../../src/domain/policy';
import type { RecallEntry } from '../../src/domain/recall';
import type { LoginState } from '../../src/domain/login';
import type { StoredSettings } from '../../src/domain/settings';
import type { Subject, VerificationStore } from '../../src/verification/ports';
import { pendingDelivery } from './fixtures';
import { describeFailuresContract } from './failures.contract';
import { describeLimitsContract } from './limits.contract';
import { describeMobileCacheContract } from './mobile-cache.contract';

export interface StoreFixture {
  store: VerificationStore;
  /** A second store on the same data, as another replica sees it (the same object for memory). */
  peer: VerificationStore;
  /** A new store instance on the same data, as after a restart; absent where nothing outlives the process (memory). */
  reopen?: () => Promise<VerificationStore>;
  cleanup(): Promise<void>;
}

const subject: Subject = { userId: 'u:1@corp', scenario: 'login' };
const record = (id: string, over: Partial<CodeRecord> = {}): CodeRecord => ({
  id,
  digest: 'ab'.repeat(32),
  recipient: 'dt-1',
  createdAt: 1_700_000_000_000,
  expiresAt: 1_700_000_300_000,
  maxAttempts: 5,
  ...over,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const many = <T>(n: number, f: (i: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => f(i)));

/**
 * Every behaviour the verification service relies on, registered once per backend
 * (memory, Redis, PostgreSQL) with a factory that returns fresh, empty stores. Calls are
 * spread over `store` and `peer`, so for shared backends "atomic" means across replicas.
 */
export function describeStoreContract(
  name: string,
  open: () => Promise<StoreFixture>,
  opts: { skip?: string } = {},
): void {
  if (opts.skip !== undefined) {
    // Jest lists no names for a file whose tests are all skipped: say why once.
    console.warn(`${name} store contract skipped: ${opts.skip}`);
    describe.skip(`${name} store contract (skipped: ${opts.skip})`, () => it('skipped', () => undefined));
    return;
  }

  describe(`${name} store contract`, () => {
    let fx: StoreFixture;
    let a: VerificationStore;
    let b: VerificationStore;
    const either = (i: number) => (i % 2 === 0 ? a : b);
    beforeEach(async () => {
      fx = await open();
      ({ store: a, peer: b } = fx);
    });
    afterEach(() => fx.cleanup());

    it(`reports its kind as ${name}`, () => {
      expect(a.kind).toBe(name);
    });

    describeLimitsContract(() => ({ a, b }));

    describeFailuresContract(() => ({ a, b }));

    describeMobileCacheContract(() => ({ a, b }));

    describe('codes', () => {
      it('counts attempts on the outstanding code and returns the record intact', async () => {
        expect(await a.countAttempt(subject)).toEqual({ state: 'missing' });
        await a.saveCode(subject, record('c1'), 60_000);
        expect(await b.countAttempt(subject)).toEqual({
          state: 'counted',
          record: record('c1'),
          attempts: 1,
        });
        expect(await a.countAttempt(subject)).toEqual({
          state: 'counted',
          record: record('c1'),
          attempts: 2,
        });
      });

      it('keeps subjects apart: another user or scenario has no code', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        expect(await b.countAttempt({ ...subject, scenario: 'two_factor' })).toEqual({ state: 'missing' });
        expect(await b.countAttempt({ ...subject, userId: 'u:1' })).toEqual({ state: 'missing' });
      });

      it('replaces the outstanding code on save, resetting its attempts and use', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        await a.countAttempt(subject);
        expect(await a.consumeCode(subject, 'c1')).toBe(true);
        await b.saveCode(subject, record('c2', { maxAttempts: 3 }), 60_000);
        expect(await a.countAttempt(subject)).toEqual({
          state: 'counted',
          record: record('c2', { maxAttempts: 3 }),
          attempts: 1,
        });
        expect(await a.consumeCode(subject, 'c1')).toBe(false);
      });

      it('consumes only the code it names, once; a used code is reported used and is not counted', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        expect(await a.consumeCode(subject, 'other')).toBe(false);
        expect(await b.consumeCode(subject, 'c1')).toBe(true);
        expect(await a.consumeCode(subject, 'c1')).toBe(false);
        expect(await a.countAttempt(subject)).toEqual({ state: 'used', id: 'c1' });
        expect(await b.countAttempt(subject)).toEqual({ state: 'used', id: 'c1' });
      });

      it('discards only the code it names', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        await b.discardCode(subject, 'c0');
        expect((await a.countAttempt(subject)).state).toBe('counted');
        await b.discardCode(subject, 'c1');
        expect(await a.countAttempt(subject)).toEqual({ state: 'missing' });
        expect(await a.consumeCode(subject, 'c1')).toBe(false);
      });

      it('forgets a code once its retention passes', async () => {
        await a.saveCode(subject, record('c1'), 150);
        expect((await b.countAttempt(subject)).state).toBe('counted');
        await sleep(400);
        expect(await b.countAttempt(subject)).toEqual({ state: 'missing' });
        expect(await a.consumeCode(subject, 'c1')).toBe(false);
      });

      it('counts 50 simultaneous attempts exactly once each', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        const snapshots = await many(50, (i) => either(i).countAttempt(subject));
        const counts = snapshots.map((s) => (s.state === 'counted' ? s.attempts : -1)).sort((x, y) => x - y);
        expect(counts).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      });

      it('consumes a code for exactly one of 50 simultaneous callers', async () => {
        await a.saveCode(subject, record('c1'), 60_000);
        const consumed = await many(50, (i) => either(i).consumeCode(subject, 'c1'));
        expect(consumed.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('send reservations', () => {
      const t0 = 1_700_000_000_000;

      it('lets exactly one of 20 simultaneous reservations through a cooldown', async () => {
        const rule: SendRule = { cooldownMs: 60_000, windowMs: 3_600_000, maxInWindow: 10 };
        const decisions = await many(20, (i) => either(i).reserveSend(subject, rule, t0 + i));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(1);
        for (const d of decisions) if (!d.allowed) expect(d.reason).toBe('cooldown');
      });

      it('lets exactly maxInWindow of 20 simultaneous reservations through when there is no cooldown', async () => {
        const rule: SendRule = { cooldownMs: 0, windowMs: 3_600_000, maxInWindow: 5 };
        const decisions = await many(20, (i) => either(i).reserveSend(subject, rule, t0));
        expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
        for (const d of decisions)
          if (!d.allowed) expect(d).toEqual({ allowed: false, reason: 'quota', retryAt: t0 + 3_600_000 });
      });

      it('releases one reservation, so a failed delivery does not cost a cooldown', async () => {
        const rule: SendRule = { cooldownMs: 60_000, windowMs: 3_600_000, maxInWindow: 10 };
        expect((await a.reserveSend(subject, rule, t0)).allowed).toBe(true);
        expect(await b.reserveSend(subject, rule, t0 + 1)).toEqual({
          allowed: false,
          reason: 'cooldown',
          retryAt: t0 + 60_000,
        });
        await b.releaseSend(subject, t0);
        await b.releaseSend(subject, t0); // already gone: a no-op
        expect(await a.reserveSend(subject, rule, t0 + 2)).toEqual({
          allowed: true,
          history: [t0 + 2],
          resendAt: t0 + 60_002,
        });
      });

      it('keeps scenarios apart', async () => {
        const rule: SendRule = { cooldownMs: 60_000, windowMs: 3_600_000, maxInWindow: 10 };
        expect((await a.reserveSend(subject, rule, t0)).allowed).toBe(true);
        expect((await b.reserveSend({ ...subject, scenario: 'risk_warning' }, rule, t0)).allowed).toBe(true);
      });

      it('forgets the history once the window passes', async () => {
        const rule: SendRule = { cooldownMs: 0, windowMs: 150, maxInWindow: 1 };
        expect((await a.reserveSend(subject, rule, Date.now())).allowed).toBe(true);
        await sleep(400);
        const later = Date.now();
        expect(await b.reserveSend(subject, rule, later)).toEqual({
          allowed: true,
          history: [later],
          resendAt: later,
        });
      });

      it('counts a send stamped ahead by a replica whose clock runs fast', async () => {
        const rule: SendRule = { cooldownMs: 60_000, windowMs: 3_600_000, maxInWindow: 10 };
        expect((await a.reserveSend(subject, rule, t0 + 5)).allowed).toBe(true);
        expect(await b.reserveSend(subject, rule, t0)).toEqual({
          allowed: false,
          reason: 'cooldown',
          retryAt: t0 + 60_005,
        });
      });

      it('follows decideSend exactly over a long random sequence, with releases and clocks that disagree', async () => {
        let seed = 7;
        const rnd = (n: number) => {
          seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
          return seed % n;
        };
        const rule: SendRule = { cooldownMs: 30_000, windowMs: 600_000, maxInWindow: 4 };
        let history: number[] = [];
        let now = t0;
        const outcomes = new Set<string>();
        for (let step = 0; step < 200; step++) {
          now += rnd(10) === 0 ? -rnd(40_000) : rnd(90_000);
          const store = either(rnd(2));
          const expected = decideSend(history, now, rule);
          expect(await store.reserveSend(subject, rule, now)).toEqual(expected);
          outcomes.add(expected.allowed ? 'allowed' : expected.reason);
          if (expected.allowed) {
            history = expected.history;
            if (rnd(5) === 0) {
              await store.releaseSend(subject, now);
              history = history.filter((_, i) => i !== history.indexOf(now));
            }
          }
        }
        expect([...outcomes].sort()).toEqual(['allowed', 'cooldown', 'quota']);
      });
    });

    describe('call slots', () => {
      const t = 1_700_000_000_000;

      it('books 30 simultaneous calls on distinct starts, intervalMs apart', async () => {
        const slots = await many(30, (i) => either(i).takeSlot('dingtalk:asyncsend_v2', 50, t, 10_000));
        expect(slots.every((s) => s.reserved)).toBe(true);
        const starts = slots.map((s) => s.startAt).sort((x, y) => x - y);
        expect(starts).toEqual(Array.from({ length: 30 }, (_, i) => t + 50 * i));
        // Another name has its own schedule.
        expect(await a.takeSlot('dingtalk:getsendresult', 50, t, 0)).toEqual({ reserved: true, startAt: t });
      });

      it('keeps intervals under a millisecond exact', async () => {
        const slots = await many(10, (i) => either(i).takeSlot('fast', 0.25, t, 10));
        const starts = slots.map((s) => Math.round((s.startAt - t) * 1000)).sort((x, y) => x - y);
        expect(starts).toEqual(Array.from({ length: 10 }, (_, i) => 250 * i));
      });

      it('starts at once when the schedule is idle, and books nothing past maxWaitMs', async () => {
        expect(await a.takeSlot('x', 100, t, 150)).toEqual({ reserved: true, startAt: t });
        expect(await b.takeSlot('x', 100, t + 10, 150)).toEqual({ reserved: true, startAt: t + 100 });
        expect(await a.takeSlot('x', 100, t + 10, 150)).toEqual({ reserved: false, startAt: t + 200 });
        expect(await b.takeSlot('x', 100, t + 60, 150)).toEqual({ reserved: true, startAt: t + 200 });
        expect(await a.takeSlot('x', 100, t + 60, 150)).toEqual({ reserved: false, startAt: t + 300 });
        expect(await b.takeSlot('x', 100, t + 1_000, 0)).toEqual({ reserved: true, startAt: t + 1_000 });
      });
    });

    describe('client IP send limits', () => {
      it('keeps an IP address apart from the users and scenarios', async () => {
        const rule: SendRule = { cooldownMs: 0, windowMs: 3_600_000, maxInWindow: 1 };
        const ip = { userId: '203.0.113.7', scenario: 'client_ip' as const };
        expect((await a.reserveSend(ip, rule, 1_000)).allowed).toBe(true);
        expect(await b.reserveSend(ip, rule, 2_000)).toEqual({
          allowed: false,
          reason: 'quota',
          retryAt: 3_601_000,
        });
        expect((await a.reserveSend({ userId: '203.0.113.7', scenario: 'login' }, rule, 2_000)).allowed).toBe(
          true,
        );
        await b.releaseSend(ip, 1_000);
        expect((await a.reserveSend(ip, rule, 3_000)).allowed).toBe(true);
      });
    });

    describe('deliveries', () => {
      const delivery = { ...pendingDelivery, userId: 'u:1@corp' };

      it('stores, replaces and reads a delivery record, and forgets it after its retention', async () => {
        expect(await a.getDelivery('v-1')).toBeUndefined();
        await a.putDelivery(delivery, 60_000);
        expect(await b.getDelivery('v-1')).toEqual(delivery);
        const dropped = {
          ...delivery,
          status: 'dropped' as const,
          code: 143105,
          detail: 'dropped',
          checkedAt: 9,
        };
        await b.putDelivery(dropped, 150);
        expect(await a.getDelivery('v-1')).toEqual(dropped);
        await sleep(400);
        expect(await a.getDelivery('v-1')).toBeUndefined();
      });

      it('keeps deliveries and bindings apart under the same id', async () => {
        const binding = { userId: 'v-1', dingtalkUserId: 'dt-9', source: 'mobile' as const, boundAt: 2 };
        await a.putBinding(binding);
        await a.putDelivery(delivery, 60_000);
        expect(await b.getBinding('v-1')).toEqual(binding);
        expect(await b.getDelivery('v-1')).toEqual(delivery);
        expect(await b.deleteBinding('v-1')).toBe(true);
        expect(await a.getDelivery('v-1')).toEqual(delivery);
      });
    });

    describe('bindings', () => {
      it('stores, replaces, reads and deletes a binding', async () => {
        const binding = { userId: 'u:1@corp', dingtalkUserId: 'dt-1', source: 'mobile' as const, boundAt: 5 };
        expect(await a.getBinding('u:1@corp')).toBeUndefined();
        await a.putBinding(binding);
        expect(await b.getBinding('u:1@corp')).toEqual(binding);
        await b.putBinding({ ...binding, dingtalkUserId: 'dt-2', source: 'union_id' });
        expect(await a.getBinding('u:1@corp')).toEqual({
          ...binding,
          dingtalkUserId: 'dt-2',
          source: 'union_id',
        });
        expect(await a.getBinding('u:2@corp')).toBeUndefined();
        expect(await b.deleteBinding('u:1@corp')).toBe(true);
        expect(await a.deleteBinding('u:1@corp')).toBe(false);
        expect(await a.getBinding('u:1@corp')).toBeUndefined();
      });
    });

    describe('DingTalk login states', () => {
      const login = (userId: string): LoginState => ({
        userId,
        redirectUri: 'https://idp.example.com/dingtalk/callback',
        createdAt: 1_700_000_000_000,
        expiresAt: 1_700_000_600_000,
      });

      it('keeps a state until it is taken, once, from either replica', async () => {
        expect(await a.takeLoginState('k1')).toBeUndefined();
        await a.putLoginState('k1', login('u:1@corp'), 60_000);
        await a.putLoginState('k2', login('u:2@corp'), 60_000);
        expect(await b.takeLoginState('k1')).toEqual(login('u:1@corp'));
        expect(await a.takeLoginState('k1')).toBeUndefined();
        expect(await b.takeLoginState('k1')).toBeUndefined();
        expect(await a.takeLoginState('k2')).toEqual(login('u:2@corp'));
      });

      it('gives a state to exactly one of 20 simultaneous takes', async () => {
        await a.putLoginState('race', login('u:1@corp'), 60_000);
        const taken = await many(20, (i) => either(i).takeLoginState('race'));
        expect(taken.filter((t) => t !== undefined)).toEqual([login('u:1@corp')]);
      });

      it('forgets a state once its retention passes', async () => {
        await a.putLoginState('brief', login('u:1@corp'), 150);
        await sleep(400);
        expect(await b.takeLoginState('brief')).toBeUndefined();
      });
    });

    describe('secrets', () => {
      it('agrees on one secret among 20 simultaneous candidates, and keeps it', async () => {
        const values = await many(20, (i) => either(i).getOrCreateSecret('hmac', `candidate-${i}`));
        expect(new Set(values).size).toBe(1);
        expect(values[0]).toMatch(/^candidate-\d+$/);
        expect(await b.getOrCreateSecret('hmac', 'late')).toBe(values[0]);
        expect(await a.getOrCreateSecret('other', 'fresh')).toBe('fresh');
      });
    });

    describe('recall due list', () => {
      const t0 = 1_700_000_000_000;
      const entry = (id: string, over: Partial<RecallEntry> = {}): RecallEntry => ({
        verificationId: id,
        taskId: '256271667526',
        userId: 'u:1@corp',
        scenario: 'login',
        createdAt: t0,
        sentAt: t0,
        dueAt: t0 + 300_000,
        reason: 'expired',
        attempts: 0,
        ...over,
      });
      const ids = (entries: RecallEntry[]) => entries.map((e) => e.verificationId);

      it('lists an entry until its due time, then hands it out once, intact, across both instances', async () => {
        await a.scheduleRecall(entry('r1'), t0);
        expect(await b.claimDueRecalls(t0 + 299_999, 10)).toEqual([]);
        expect(await b.claimDueRecalls(t0 + 300_000, 10)).toEqual([entry('r1')]);
        expect(await a.claimDueRecalls(t0 + 400_000, 10)).toEqual([]);
        expect(await b.claimDueRecalls(t0 + 400_000, 10)).toEqual([]);
      });

      it('claims the earliest first, at most `limit` at a time', async () => {
        for (const [i, due] of [3, 1, 2].entries())
          await either(i).scheduleRecall(entry(`r${due}`, { userId: `u-${due}`, dueAt: t0 + due }), t0);
        expect(ids(await a.claimDueRecalls(t0 + 10, 2))).toEqual(['r1', 'r2']);
        expect(ids(await b.claimDueRecalls(t0 + 10, 2))).toEqual(['r3']);
      });

      it('makes a listed entry due now with the reason given, and says whether one was listed', async () => {
        await a.scheduleRecall(entry('r1'), t0);
        expect(await b.expediteRecall('r1', 'approved', t0 + 10)).toBe(true);
        expect(await b.expediteRecall('nope', 'approved', t0 + 10)).toBe(false);
        expect(await a.claimDueRecalls(t0 + 10, 10)).toEqual([
          entry('r1', { dueAt: t0 + 10, reason: 'approved' }),
        ]);
        expect(await a.expediteRecall('r1', 'locked', t0 + 20)).toBe(false);
      });

      it('never moves a due time later when expediting', async () => {
        await a.scheduleRecall(entry('r1', { dueAt: t0 + 5 }), t0);
        expect(await b.expediteRecall('r1', 'locked', t0 + 50)).toBe(true);
        expect(await a.claimDueRecalls(t0 + 5, 10)).toEqual([
          entry('r1', { dueAt: t0 + 5, reason: 'locked' }),
        ]);
      });

      it("makes the subject's older code due now as replaced when a newer one is scheduled", async () => {
        await a.scheduleRecall(entry('old'), t0);
        await a.scheduleRecall(entry('other', { userId: 'u-2' }), t0);
        await b.scheduleRecall(entry('new', { createdAt: t0 + 60_000, dueAt: t0 + 360_000 }), t0 + 60_000);
        expect(await a.claimDueRecalls(t0 + 60_000, 10)).toEqual([
          entry('old', { dueAt: t0 + 60_000, reason: 'replaced' }),
        ]);
        expect(ids(await a.claimDueRecalls(t0 + 360_000, 10)).sort()).toEqual(['new', 'other']);
      });

      it('keeps an approved older code approved, and lists a late-comer older code as replaced at once', async () => {
        await a.scheduleRecall(entry('old'), t0);
        await a.expediteRecall('old', 'approved', t0 + 1);
        await b.scheduleRecall(entry('new', { createdAt: t0 + 2 }), t0 + 2);
        // Scheduled after the newer one (a slow send): it is replaced already.
        await a.scheduleRecall(entry('older', { createdAt: t0 - 5 }), t0 + 3);
        const claimed = await b.claimDueRecalls(t0 + 3, 10);
        expect(claimed).toEqual([
          entry('old', { dueAt: t0 + 1, reason: 'approved' }),
          entry('older', { createdAt: t0 - 5, dueAt: t0 + 3, reason: 'replaced' }),
        ]);
        expect(ids(await a.claimDueRecalls(t0 + 300_000, 10))).toEqual(['new']);
      });

      it('hands each of 30 due entries to exactly one of 20 simultaneous claims', async () => {
        for (let i = 0; i < 30; i++)
          await either(i).scheduleRecall(entry(`r${i}`, { userId: `u-${i}`, dueAt: t0 + i }), t0);
        const claims = await many(20, (i) => either(i).claimDueRecalls(t0 + 100, 5));
        const all = claims.flatMap(ids).sort();
        expect(all).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`).sort());
      });

      it('lists a claimed entry again for a retry, leaving the newest code of its subject alone', async () => {
        await a.scheduleRecall(entry('old'), t0);
        await a.scheduleRecall(entry('new', { createdAt: t0 + 1 }), t0 + 1);
        const [claimed] = await b.claimDueRecalls(t0 + 1, 10);
        expect(claimed.verificationId).toBe('old');
        await b.rescheduleRecall({ ...claimed, attempts: 1, dueAt: t0 + 5_001 });
        expect(await a.claimDueRecalls(t0 + 5_000, 10)).toEqual([]);
        expect(await a.claimDueRecalls(t0 + 5_001, 10)).toEqual([
          entry('old', { dueAt: t0 + 5_001, reason: 'replaced', attempts: 1 }),
        ]);
        expect(ids(await b.claimDueRecalls(t0 + 300_001, 10))).toEqual(['new']);
      });

      it('keeps the list for a new store instance on the same data (a restart)', async () => {
        if (!fx.reopen) return; // memory: nothing outlives the process
        await a.scheduleRecall(entry('r1'), t0);
        await a.scheduleRecall(entry('r2', { userId: 'u-2' }), t0);
        expect(ids(await b.claimDueRecalls(t0 + 300_000, 1))).toEqual(['r1']);
        await Promise.all([a.close(), b.close()]);
        const again = await fx.reopen();
        try {
          expect(await again.claimDueRecalls(t0 + 300_000, 10)).toEqual([entry('r2', { userId: 'u-2' })]);
          expect(await again.claimDueRecalls(t0 + 300_000, 10)).toEqual([]);
        } finally {
          await again.close();
        }
      });
    });

    describe('runtime settings', () => {
      const doc = (version: number, by: string): StoredSettings => ({
        version,
        values: { enabled: false, 'scenarios.login.ttl_seconds': 120, app_secret: { sealed: 'v1.a.b.c' } },
        updatedAt: 1_700_000_000_000 + version,
        updatedBy: by,
      });

      it('stores the first document only over version 0, and reads it back from the peer', async () => {
        expect(await a.readSettings()).toBeUndefined();
        expect(await a.writeSettings(1, doc(2, 'admin'))).toBe(false);
        expect(await a.readSettings()).toBeUndefined();
        expect(await a.writeSettings(0, doc(1, 'admin'))).toBe(true);
        expect(await b.readSettings()).toEqual(doc(1, 'admin'));
        expect(await b.writeSettings(0, doc(1, 'other'))).toBe(false);
        expect(await a.readSettings()).toEqual(doc(1, 'admin'));
      });

      it('lets exactly one of 20 simultaneous changes from one version win', async () => {
        await a.writeSettings(0, doc(1, 'first'));
        const won = await many(20, (i) => either(i).writeSettings(1, doc(2, `admin-${i}`)));
        expect(won.filter(Boolean)).toHaveLength(1);
        const stored = await b.readSettings();
        expect(stored!.version).toBe(2);
        expect(stored!.updatedBy).toBe(`admin-${won.indexOf(true)}`);
        expect(await a.writeSettings(2, doc(3, 'next'))).toBe(true);
        expect((await b.readSettings())!.version).toBe(3);
      });
    });

    describe('life cycle', () => {
      it('answers ping, and refuses every operation with store_unavailable once closed', async () => {
        await a.ping();
        const closed = b === a ? a : b;
        await closed.close();
        for (const op of [
          () => closed.ping(),
          () => closed.countAttempt(subject),
          () => closed.getBinding('u-1'),
          () => closed.readSettings(),
          () => closed.reserveSend(subject, { cooldownMs: 0, windowMs: 1000, maxInWindow: 1 }, Date.now()),
        ]) {
          const err = await op().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(isGatewayFailure(err) && err.detail.kind).toBe('store_unavailable');
        }
        await closed.close(); // idempotent
      });
    });
  });
}
