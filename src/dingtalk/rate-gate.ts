import { upstream } from '../domain/errors';
import type { Slot } from '../verification/ports';
import type { Sleep } from './retry';

export interface RateGateOptions {
  /** Calls per endpoint in any one-second span across every replica; 0 turns the gate off. */
  perSecond: number;
  /** The shared schedule (the store's takeSlot). */
  takeSlot: (name: string, intervalMs: number, now: number, maxWaitMs: number) => Promise<Slot>;
  /** Namespaces the schedules, so apps sharing a store do not share a budget; read per call (it may change at run time). */
  appKey: () => string;
  now: () => number;
  sleep: Sleep;
  /** Longest a call waits for its slot before it is refused. Default 3000 ms. */
  maxWaitMs?: number;
}

/**
 * Spacing that keeps any closed one-second span to `perSecond` calls: the calls after
 * the first land at k·interval with interval just over 1000/perSecond (by 1 µs, the
 * schedule's resolution), so the (perSecond+1)th falls past the second.
 */
export const slotInterval = (perSecond: number): number => 1000 / perSecond + 0.001;

/**
 * Keeps the gateway's DingTalk calls under DingTalk's per-app, per-API limit (20 calls/s;
 * 90018 beyond it). Calls book start times on a schedule kept in the shared store, so N
 * replicas together stay under it and nobody polls: a call waits for its booked start
 * (within the caller's signal), and one that would wait longer than `maxWaitMs` is
 * refused with RESOURCE_EXHAUSTED instead of queueing without bound.
 */
export function createRateGate(options: RateGateOptions) {
  const { perSecond, takeSlot, now, sleep } = options;
  const maxWaitMs = options.maxWaitMs ?? 3000;
  const interval = perSecond > 0 ? slotInterval(perSecond) : 0;
  return async function acquire(endpoint: string, signal?: AbortSignal): Promise<void> {
    if (perSecond <= 0) return;
    const t = now();
    const slot = await takeSlot(`dingtalk:${options.appKey()}:${endpoint}`, interval, t, maxWaitMs);
    if (!slot.reserved) {
      throw upstream({
        upstream: 'rate_limit',
        errcode: 0,
        endpoint,
        retryable: false,
        retryAfterMs: slot.startAt - t - maxWaitMs,
        message: `the gateway keeps DingTalk ${endpoint} under ${perSecond} calls per second and its queue is ${maxWaitMs} ms long; retry shortly`,
      });
    }
    if (slot.startAt > t) await sleep(slot.startAt - t, signal);
  };
}
