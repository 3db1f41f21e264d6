import { setMaxListeners } from 'node:events';
import { classifyDelivery, DELIVERY_RETENTION_MS, type DeliveryRecord } from '../domain/delivery';
import { isGatewayFailure, notFound } from '../domain/errors';
import * as check from '../domain/validation';
import type { DingTalkPort, VerificationStore } from './ports';
import type { AuditSink } from './ports';

export interface DeliveryTrackerDeps {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  now: () => number;
  audit: AuditSink;
  /** Delay of the one background read of the send result after a send; 0 = none. */
  followUpMs: number;
}

/** A pending record is read again from DingTalk at most this often on request. */
const RECHECK_AFTER_MS = 1000;

export type DeliveryTracker = ReturnType<typeof createDeliveryTracker>;

/**
 * Knows whether sent codes reached their users. DingTalk answers errcode 0 for sends it
 * later drops (daily cap, duplicate content, visible range); only its send result tells.
 * After each send one background read records the outcome (and the `code.delivery`
 * audit event feeds the metrics); GetDelivery reads a still-pending record again on
 * request. Background reads are best effort: a failure leaves the record pending.
 */
export function createDeliveryTracker(deps: DeliveryTrackerDeps) {
  const { store, dingtalk, now, audit, followUpMs } = deps;
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new AbortController();
  // Every background call in flight listens on this one signal (and stops listening when it
  // ends): more than Node's default of 10 at once is expected, not a leak.
  setMaxListeners(0, inFlight.signal);

  /** Reads DingTalk's send result for a record, stores and returns what it says. */
  async function refresh(record: DeliveryRecord, signal?: AbortSignal): Promise<DeliveryRecord> {
    const result = await dingtalk.getSendResult(record.taskId, signal);
    const updated: DeliveryRecord = {
      ...record,
      ...classifyDelivery(result, record.dingtalkUserId),
      checkedAt: now(),
    };
    await store.putDelivery(updated, Math.max(1, record.sentAt + DELIVERY_RETENTION_MS - now()));
    if (updated.status !== 'pending') {
      audit('code.delivery', {
        userId: record.userId,
        scenario: record.scenario,
        verificationId: record.verificationId,
        taskId: record.taskId,
        delivery: updated.status,
        dingtalkCode: updated.code,
      });
    }
    return updated;
  }

  /** Records a fresh send as pending and schedules its follow-up read. */
  async function track(record: DeliveryRecord): Promise<void> {
    await store.putDelivery(record, DELIVERY_RETENTION_MS);
    if (followUpMs <= 0) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      // Read again first: a recall may have noted itself on the record meanwhile.
      store
        .getDelivery(record.verificationId)
        .then((latest) => refresh(latest ?? record, inFlight.signal))
        .catch((e: unknown) =>
          audit('code.delivery_unchecked', {
            verificationId: record.verificationId,
            taskId: record.taskId,
            error: isGatewayFailure(e) ? e.detail.kind : 'internal',
          }),
        );
    }, followUpMs);
    timer.unref();
    timers.add(timer);
  }

  /** GetDelivery: the stored record, read again from DingTalk while it is pending. */
  async function get(rawId: string, signal?: AbortSignal): Promise<DeliveryRecord> {
    const id = check.verificationId(rawId);
    const record = await store.getDelivery(id);
    if (!record)
      throw notFound(`no delivery record for verification ${id} (unknown, or older than 24 hours)`);
    if (record.status !== 'pending' || now() - record.checkedAt < RECHECK_AFTER_MS) return record;
    try {
      return await refresh(record, signal);
    } catch (e) {
      if (!isGatewayFailure(e) || e.detail.kind === 'cancelled' || e.detail.kind === 'store_unavailable')
        throw e;
      return { ...record, detail: `sent, but the send result could not be read: ${e.message}` };
    }
  }

  return {
    track,
    get,
    /** Cancels the scheduled reads and those under way (shutdown). */
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      inFlight.abort();
    },
  };
}
