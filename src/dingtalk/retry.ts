import { cancelled, isGatewayFailure } from '../domain/errors';
import { classifyErrcode } from './errcodes';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 200, maxDelayMs: 2000 };

/** Waits `ms`; rejects with `cancelled` when `signal` aborts first. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Exponential backoff with jitter: half the doubled delay is fixed, half random, so
 * replicas that failed together do not retry together. `floorMs` wins over `maxDelayMs`.
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
  floorMs = 0,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.max(floorMs, Math.round(exp / 2 + (random() * exp) / 2));
}

/** The wait a retryable upstream failure asks for, or undefined when it must not be retried. */
export function retryFloor(e: unknown): number | undefined {
  if (!isGatewayFailure(e) || e.detail.kind !== 'upstream' || !e.detail.retryable) return undefined;
  return e.detail.errcode !== 0 ? classifyErrcode(e.detail.errcode).minDelayMs : 0;
}

export interface RetryOptions {
  policy: RetryPolicy;
  sleep: Sleep;
  random: () => number;
  signal?: AbortSignal;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `run` until it succeeds, fails with something not retryable, or has used
 * `maxAttempts`. Waiting between attempts ends with `cancelled` when the signal aborts.
 */
export async function withRetry<T>(run: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(attempt);
    } catch (e) {
      const floor = retryFloor(e);
      if (floor === undefined || attempt >= o.policy.maxAttempts || o.signal?.aborted) throw e;
      const delayMs = backoffDelay(attempt, o.policy, o.random, floor);
      o.onRetry?.(e, attempt, delayMs);
      await o.sleep(delayMs, o.signal);
    }
  }
}
