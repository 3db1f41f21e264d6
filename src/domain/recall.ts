import type { ScenarioName } from './scenario';

/**
 * Why a code's work notification is taken back out of the user's chat: the code was
 * approved, replaced by a newer code of the same user and scenario, locked by too many
 * wrong attempts, or it expired.
 */
export type RecallReason = 'approved' | 'replaced' | 'locked' | 'expired';

/**
 * One message waiting in the shared due list to be recalled. Keyed by verification id;
 * `dueAt` orders the list. The task id is copied from the delivery record at scheduling,
 * so a recall needs nothing else from the store.
 */
export interface RecallEntry {
  verificationId: string;
  /** DingTalk's asyncsend_v2 task id: recall's `msg_task_id`. */
  taskId: string;
  userId: string;
  scenario: ScenarioName;
  /** The code's creation time: of two codes of one subject, the later one replaces the other. */
  createdAt: number;
  /** When DingTalk accepted the send; DingTalk recalls only within RECALL_WINDOW_MS of it. */
  sentAt: number;
  /** When the recall is due (ms); the code's expiry until something makes it due earlier. */
  dueAt: number;
  /** The reason recorded when the recall is made. */
  reason: RecallReason;
  /** Failed recall attempts so far. */
  attempts: number;
}

/** DingTalk recalls a work notification only within 24 hours of sending it. */
export const RECALL_WINDOW_MS = 24 * 3_600_000;

/** Recall attempts per message before it is counted failed (each attempt is one client call, itself retried on busy answers). */
export const MAX_RECALL_ATTEMPTS = 3;

/** Delay before retry `attempt` (1-based count of failures so far): 5 s, then 30 s. */
export const recallBackoffMs = (attempt: number): number => (attempt <= 1 ? 5_000 : 30_000);
