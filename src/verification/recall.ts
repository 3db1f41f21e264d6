import { setMaxListeners } from 'node:events';
import { DELIVERY_RETENTION_MS } from '../domain/delivery';
import { isGatewayFailure, type UpstreamKind } from '../domain/errors';
import {
  MAX_RECALL_ATTEMPTS,
  RECALL_WINDOW_MS,
  recallBackoffMs,
  type RecallEntry,
  type RecallReason,
} from '../domain/recall';
import type { ScenarioName } from '../domain/scenario';
import type { AuditSink, DingTalkPort, VerificationStore } from './ports';

export interface RecallerDeps {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  now: () => number;
  audit: AuditSink;
  /** Whether the scenario's messages are recalled, as in force now (it may change at run time). */
  recallOn: (scenario: ScenarioName) => boolean;
  /** How often this replica claims due entries from the shared list; 0 = only through poll(). */
  pollMs: number;
  /** Entries claimed per poll; default 20, DingTalk's per-app budget of one API per second. */
  batch?: number;
}

/** Failures that say DingTalk could not be asked, not that it refused: worth another attempt. */
const RETRYABLE = new Set<UpstreamKind>([
  'transport',
  'bad_response',
  'busy',
  'rate_limit',
  'banned',
  'circuit_open',
]);

const kindOf = (e: unknown): string =>
  isGatewayFailure(e) ? (e.detail.kind === 'upstream' ? e.detail.upstream : e.detail.kind) : 'internal';

/** DingTalk refused this recall (too late, already recalled, unknown task, …): asking again changes nothing. */
const isRefusal = (e: unknown): boolean =>
  isGatewayFailure(e) && e.detail.kind === 'upstream' && !RETRYABLE.has(e.detail.upstream);

export type Recaller = ReturnType<typeof createRecaller>;

/**
 * Takes sent codes' messages back out of users' chats. SendCode lists each message in the
 * store's shared due list at its code's expiry; approve, lock and a newer code make it due
 * now. Every replica claims due entries every `pollMs` (a claim hands each entry to one
 * replica only) and recalls them through the DingTalk client, so the calls share its rate
 * gate and circuit breaker. A failed call is listed again with a backoff, up to
 * MAX_RECALL_ATTEMPTS; a refusal by DingTalk is final. Outcomes are audit events
 * (`code.recalled`, `code.recall_failed`, `code.recall_skipped`), which feed the metrics.
 * Nothing here is awaited by VerifyCode: its calls return at once and log their failures.
 */
export function createRecaller(deps: RecallerDeps) {
  const { store, dingtalk, now, audit, recallOn } = deps;
  const batch = deps.batch ?? 20;
  const inFlight = new AbortController();
  // Every background call in flight listens on this one signal (and stops listening when it
  // ends): more than Node's default of 10 at once is expected, not a leak.
  setMaxListeners(0, inFlight.signal);
  let polling: Promise<number> | undefined;
  let claimFailing = false;

  const fields = (e: RecallEntry) => ({
    userId: e.userId,
    scenario: e.scenario,
    verificationId: e.verificationId,
    taskId: e.taskId,
    reason: e.reason,
  });

  /** Notes on the delivery record that its message is gone; the record may be missing (unrecorded or aged out). */
  async function markRecalled(e: RecallEntry, at: number): Promise<void> {
    const record = await store.getDelivery(e.verificationId);
    if (!record) return;
    const retainMs = Math.max(1, record.sentAt + DELIVERY_RETENTION_MS - at);
    await store.putDelivery({ ...record, recalledAt: at, recallReason: e.reason }, retainMs);
  }

  async function recallOne(e: RecallEntry): Promise<void> {
    const at = now();
    if (!recallOn(e.scenario)) {
      audit('code.recall_skipped', { ...fields(e), why: 'recall is switched off for the scenario' });
      return;
    }
    if (at - e.sentAt >= RECALL_WINDOW_MS) {
      audit('code.recall_failed', { ...fields(e), attempts: e.attempts, error: 'too_late' });
      return;
    }
    try {
      await dingtalk.recall(e.taskId, inFlight.signal);
    } catch (err) {
      if (inFlight.signal.aborted) {
        // Shutting down: the entry goes back as it was, for whichever replica polls next.
        await store.rescheduleRecall(e);
        return;
      }
      const attempts = e.attempts + 1;
      const errcode = isGatewayFailure(err) && err.detail.kind === 'upstream' ? err.detail.errcode : 0;
      if (isRefusal(err) || attempts >= MAX_RECALL_ATTEMPTS) {
        audit('code.recall_failed', { ...fields(e), attempts, error: kindOf(err), errcode });
        return;
      }
      await store.rescheduleRecall({ ...e, attempts, dueAt: at + recallBackoffMs(attempts) });
      audit('code.recall_retry', { ...fields(e), attempts, error: kindOf(err), errcode });
      return;
    }
    audit('code.recalled', { ...fields(e), attempts: e.attempts + 1 });
    await markRecalled(e, at).catch((err: unknown) =>
      audit('code.recall_unrecorded', { ...fields(e), error: kindOf(err) }),
    );
  }

  /** Claims what is due now and recalls it; resolves with how many entries were claimed. */
  async function pollOnce(): Promise<number> {
    let due: RecallEntry[];
    try {
      due = await store.claimDueRecalls(now(), batch);
      if (claimFailing) audit('recall.claims_resumed', {});
      claimFailing = false;
    } catch (e) {
      if (!claimFailing) audit('recall.claims_failing', { error: kindOf(e) });
      claimFailing = true;
      return 0;
    }
    await Promise.all(
      due.map((e) =>
        recallOne(e).catch((err: unknown) =>
          // Only the store can fail here (rescheduling): the entry is lost, the message stays.
          audit('code.recall_failed', { ...fields(e), attempts: e.attempts, error: kindOf(err) }),
        ),
      ),
    );
    return due.length;
  }

  const poll = (): Promise<number> => (polling ??= pollOnce().finally(() => (polling = undefined)));
  const timer = deps.pollMs > 0 ? setInterval(() => void poll(), deps.pollMs) : undefined;
  timer?.unref();

  /** Lists a freshly sent code's message, due at its expiry. Resolves whatever happens. */
  async function schedule(entry: RecallEntry): Promise<void> {
    try {
      await store.scheduleRecall(entry, now());
    } catch (e) {
      audit('code.recall_unscheduled', {
        userId: entry.userId,
        scenario: entry.scenario,
        verificationId: entry.verificationId,
        error: kindOf(e),
      });
    }
  }

  /** Makes a listed message due now (approved, locked); fire and forget. */
  function expedite(verificationId: string, scenario: ScenarioName, reason: RecallReason): void {
    store
      .expediteRecall(verificationId, reason, now())
      .catch((e: unknown) =>
        audit('code.recall_unscheduled', { scenario, verificationId, reason, error: kindOf(e) }),
      );
  }

  return {
    schedule,
    expedite,
    poll,
    /**
     * Stops polling and lets recalls under way finish for up to `graceMs`; then they are
     * cancelled and their entries listed again (one cut off after DingTalk acted is then
     * refused as already recalled, and counted failed).
     */
    async close(graceMs = 2000): Promise<void> {
      if (timer) clearInterval(timer);
      const cutOff = setTimeout(() => inFlight.abort(), graceMs);
      await polling;
      clearTimeout(cutOff);
      inFlight.abort();
    },
  };
}
