import { isGatewayFailure } from '../../src/domain/errors';
import { createTokenCache, type FetchedToken } from '../../src/dingtalk/token';

/** A fetch function that hands out tok-1, tok-2, … and can be held open. */
function fakeFetch(lifetimeSeconds = 7200) {
  let n = 0;
  let gate: Promise<void> | undefined;
  let open = () => {};
  let failNext: Error | undefined;
  const f = {
    calls: 0,
    fetch: async (): Promise<FetchedToken> => {
      f.calls++;
      if (gate) await gate;
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      return { token: `tok-${++n}`, expiresInSeconds: lifetimeSeconds };
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open();
    },
    failOnce(e: Error) {
      failNext = e;
    },
  };
  return f;
}

describe('token cache', () => {
  let clock = 1_000_000;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('reuses the token until five minutes before expiry, then refreshes', async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    expect(await cache.get()).toBe('tok-1');
    clock += 7200_000 - 300_000 - 1;
    expect(await cache.get()).toBe('tok-1');
    expect(f.calls).toBe(1);
    clock += 1;
    expect(await cache.get()).toBe('tok-2');
    expect(f.calls).toBe(2);
    expect(cache.fetches).toBe(2);
  });

  it('refreshes short-lived tokens at half their lifetime', async () => {
    const f = fakeFetch(60);
    const cache = createTokenCache({ fetch: f.fetch, now });
    await cache.get();
    clock += 29_999;
    expect(await cache.get()).toBe('tok-1');
    clock += 1;
    expect(await cache.get()).toBe('tok-2');
  });

  it('coalesces 20 concurrent gets into one fetch', async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    f.hold();
    const all = Array.from({ length: 20 }, () => cache.get());
    await Promise.resolve();
    f.release();
    expect(new Set(await Promise.all(all))).toEqual(new Set(['tok-1']));
    expect(f.calls).toBe(1);
  });

  it('invalidate drops the token only while it is still the cached one', async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    const first = await cache.get();
    cache.invalidate(first);
    const second = await cache.get();
    expect(second).toBe('tok-2');
    // A late caller still holding the first token must not throw away the second.
    cache.invalidate(first);
    expect(await cache.get()).toBe('tok-2');
    expect(f.calls).toBe(2);
  });

  it('a failed fetch is not cached and the next get fetches again', async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    f.failOnce(new Error('down'));
    await expect(cache.get()).rejects.toThrow('down');
    expect(await cache.get()).toBe('tok-1');
    expect(f.calls).toBe(2);
  });

  it('keeps using a still-valid token when an early refresh fails', async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    await cache.get();
    clock += 7200_000 - 60_000;
    f.failOnce(new Error('down'));
    expect(await cache.get()).toBe('tok-1');
    clock += 60_000;
    f.failOnce(new Error('down'));
    await expect(cache.get()).rejects.toThrow('down');
  });

  it("a waiter's abort cancels only its own wait, not the shared fetch", async () => {
    const f = fakeFetch();
    const cache = createTokenCache({ fetch: f.fetch, now });
    f.hold();
    const ac = new AbortController();
    const aborted = cache.get(ac.signal);
    const patient = cache.get();
    ac.abort();
    const e = await aborted.catch((x: unknown) => x);
    expect(isGatewayFailure(e) && e.detail.kind).toBe('cancelled');
    f.release();
    expect(await patient).toBe('tok-1');
    expect(f.calls).toBe(1);
  });
});
