import { cancelled, isGatewayFailure, upstream } from '../../src/domain/errors';
import { backoffDelay, DEFAULT_RETRY, sleep, withRetry } from '../../src/dingtalk/retry';

const failure = (errcode: number, retryable: boolean) =>
  upstream({ upstream: retryable ? 'busy' : 'permission', errcode, endpoint: 'x', retryable, message: 'm' });

describe('backoffDelay', () => {
  const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  it('doubles per attempt, jitters the upper half, caps at maxDelayMs', () => {
    expect(backoffDelay(1, policy, () => 0)).toBe(50);
    expect(backoffDelay(1, policy, () => 0.999)).toBe(100);
    expect(backoffDelay(3, policy, () => 0)).toBe(200);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(1000);
  });
  it('never goes below the floor, even past maxDelayMs', () => {
    expect(backoffDelay(1, policy, () => 0, 1000)).toBe(1000);
    expect(backoffDelay(1, { ...policy, maxDelayMs: 10 }, () => 0, 1000)).toBe(1000);
  });
});

describe('withRetry', () => {
  const delays: number[] = [];
  const fakeSleep = async (ms: number) => {
    delays.push(ms);
  };
  beforeEach(() => (delays.length = 0));
  const opts = { policy: DEFAULT_RETRY, sleep: fakeSleep, random: () => 0.5 };

  it('retries retryable failures up to maxAttempts', async () => {
    let n = 0;
    await expect(
      withRetry(async () => {
        n++;
        throw failure(-1, true);
      }, opts),
    ).rejects.toThrow('m');
    expect(n).toBe(3);
    expect(delays).toHaveLength(2);
  });

  it('succeeds after a retry', async () => {
    let n = 0;
    expect(await withRetry(async () => (++n === 1 ? Promise.reject(failure(-1, true)) : 'ok'), opts)).toBe(
      'ok',
    );
    expect(n).toBe(2);
  });

  it('waits at least a second for 90018', async () => {
    let n = 0;
    await withRetry(async () => (++n === 1 ? Promise.reject(failure(90018, true)) : 'ok'), opts);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });

  it('does not retry what is not retryable, nor foreign errors', async () => {
    let n = 0;
    await expect(
      withRetry(async () => {
        n++;
        throw failure(60011, false);
      }, opts),
    ).rejects.toThrow();
    await expect(
      withRetry(async () => {
        n++;
        throw new Error('boom');
      }, opts),
    ).rejects.toThrow('boom');
    await expect(
      withRetry(async () => {
        n++;
        throw cancelled();
      }, opts),
    ).rejects.toThrow();
    expect(n).toBe(3);
    expect(delays).toEqual([]);
  });
});

describe('sleep', () => {
  it('ends with cancelled when the signal aborts', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = sleep(5000, ac.signal);
    setTimeout(() => ac.abort(), 20);
    const e = await p.catch((x: unknown) => x);
    expect(isGatewayFailure(e) && e.detail.kind).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sleep(1, AbortSignal.abort())).rejects.toThrow();
  });
});
