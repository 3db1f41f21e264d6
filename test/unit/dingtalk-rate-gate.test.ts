import { createRateGate, slotInterval } from '../../src/dingtalk/rate-gate';
import { isGatewayFailure } from '../../src/domain/errors';
import { createMemoryStore } from '../../src/store/memory';

/** The gate over a real (memory) store's schedule, with a clock only sleeping moves. */
function setup(perSecond: number, maxWaitMs = 3000) {
  let now = 1_700_000_000_000;
  const store = createMemoryStore();
  const slept: number[] = [];
  const acquire = createRateGate({
    perSecond,
    takeSlot: store.takeSlot,
    appKey: () => 'app',
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    maxWaitMs,
  });
  return { acquire, slept, store, now: () => now, set: (t: number) => (now = t) };
}

describe('DingTalk rate gate', () => {
  it('spaces calls so that no one-second span holds more than perSecond', () => {
    for (const n of [1, 2, 3, 7, 18, 20, 100, 999, 5000, 100_000]) {
      const interval = slotInterval(n);
      // n calls at 0, interval, …: the (n+1)th is past 1000 ms.
      expect(interval * n).toBeGreaterThan(1000);
      // …and not much slower than asked, however high the rate.
      expect(1000 / interval).toBeGreaterThan(n * 0.9);
    }
    expect(slotInterval(20)).toBeCloseTo(50.001, 6);
  });

  it('lets a call through at once when idle, then makes the next ones wait their turn', async () => {
    const g = setup(20);
    const started = g.now();
    const starts: number[] = [];
    for (let i = 0; i < 25; i++) {
      await g.acquire('asyncsend_v2');
      starts.push(g.now() - started);
    }
    expect(starts.slice(0, 3).map((s) => Math.round(s * 1000))).toEqual([0, 50_001, 100_002]);
    expect(starts.filter((s) => s <= 1000)).toHaveLength(20);
    // Another endpoint has its own schedule.
    const before = g.now();
    await g.acquire('getsendresult');
    expect(g.now()).toBe(before);
    await g.store.close();
  });

  it('refuses with rate_limit and a retry-after when the queue is longer than maxWaitMs', async () => {
    const g = setup(2, 600);
    await g.acquire('asyncsend_v2');
    // Booked without waiting: the clock does not move, so the queue grows.
    const t = g.now();
    const booked = await g.store.takeSlot('dingtalk:app:asyncsend_v2', 501, t, 600);
    expect(booked.reserved).toBe(true);
    expect(booked.startAt - t).toBeCloseTo(500.001, 3);
    const err = await g.acquire('asyncsend_v2').catch((e: unknown) => e);
    expect(isGatewayFailure(err) && err.detail.kind === 'upstream' && err.detail.retryAfterMs).toBeCloseTo(
      401.001,
      3,
    );
    expect(isGatewayFailure(err) && err.detail).toMatchObject({
      kind: 'upstream',
      upstream: 'rate_limit',
      message:
        'the gateway keeps DingTalk asyncsend_v2 under 2 calls per second and its queue is 600 ms long; retry shortly',
    });
    await g.store.close();
  });

  it('does nothing when switched off', async () => {
    const g = setup(0);
    for (let i = 0; i < 100; i++) await g.acquire('asyncsend_v2');
    expect(g.slept).toEqual([]);
    await g.store.close();
  });
});
