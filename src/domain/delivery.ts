import type { RecallReason } from './recall';

/** DingTalk's send result for one task (getsendresult), in our names. */
export interface SendResult {
  read: string[];
  unread: string[];
  invalid: string[];
  forbidden: string[];
  failed: string[];
  forbiddenList: { code: number; count: number; userid: string }[];
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dropped' | 'failed';

export interface Delivery {
  status: DeliveryStatus;
  /** DingTalk's forbidden_list code, 0 when none. */
  code: number;
  detail: string;
}

/** What the gateway knows of one sent code's delivery (never the code itself). */
export interface DeliveryRecord extends Delivery {
  verificationId: string;
  taskId: string;
  userId: string;
  scenario: string;
  dingtalkUserId: string;
  sentAt: number;
  /** When DingTalk's send result was last read; equal to sentAt before the first check. */
  checkedAt: number;
  /** When the gateway recalled the message from the user's chat; absent while it is not recalled. */
  recalledAt?: number;
  /** Why it was recalled; set together with recalledAt. */
  recallReason?: RecallReason;
}

/** DingTalk keeps send results for 24 hours; so do we. */
export const DELIVERY_RETENTION_MS = 24 * 3_600_000;

/** What is known of a send DingTalk has accepted but not yet reported on. */
export const PENDING: Delivery = Object.freeze({
  status: 'pending',
  code: 0,
  detail: 'accepted by DingTalk; delivery not reported yet',
});

const FORBIDDEN_REASONS: Record<number, string> = {
  143105: 'the per-user daily limit of work notifications for this app was reached',
  143205: 'the per-user daily limit of work notifications for this app was reached',
  143106: 'the same content was already sent to this user today',
  143206: 'the same content was already sent to this user today',
  143103: 'DingTalk flow control (too many recipients per minute)',
  143104: 'DingTalk flow control (too many recipients per minute)',
  143203: 'DingTalk flow control (too many recipients per minute)',
  143204: 'DingTalk flow control (too many recipients per minute)',
};

/**
 * Reads one recipient's fate out of a send result. DingTalk reports errcode 0 for
 * sends it then drops; only this result tells them apart.
 */
export function classifyDelivery(result: SendResult, userId: string): Delivery {
  const listed = result.forbiddenList.find((f) => f.userid === userId);
  if (listed) {
    const reason = FORBIDDEN_REASONS[listed.code] ?? 'DingTalk refused to deliver it';
    return {
      status: 'dropped',
      code: listed.code,
      detail: `accepted but dropped by DingTalk: ${reason} (${listed.code})`,
    };
  }
  if (result.forbidden.includes(userId)) {
    return {
      status: 'dropped',
      code: 0,
      detail: "accepted but dropped by DingTalk: the user is outside the app's visible range or blocked",
    };
  }
  if (result.invalid.includes(userId)) {
    return { status: 'failed', code: 0, detail: 'DingTalk does not know this userid' };
  }
  if (result.failed.includes(userId))
    return { status: 'failed', code: 0, detail: 'DingTalk failed to deliver it' };
  if (result.read.includes(userId)) return { status: 'delivered', code: 0, detail: 'delivered and read' };
  if (result.unread.includes(userId)) return { status: 'delivered', code: 0, detail: 'delivered' };
  return PENDING;
}
