import { PENDING } from '../domain/delivery';
import { isGatewayFailure } from '../domain/errors';
import type { ScenarioName } from '../domain/scenario';
import type { DeliveryTracker } from './delivery';
import type { AuditSink, DingTalkPort, Markdown } from './ports';
import type { Recaller } from './recall';
import type { Recipient } from './recipient';

export interface DispatchDeps {
  dingtalk: Pick<DingTalkPort, 'sendMarkdown'>;
  deliveries: Pick<DeliveryTracker, 'track'>;
  recalls: Pick<Recaller, 'schedule'>;
  audit: AuditSink;
}

/** One message to send: whose, where to, what, and what to undo when DingTalk does not take it. */
export interface Outgoing {
  /** The verification (or delivery) id: names the delivery record and the recall. */
  id: string;
  userId: string;
  scenario: ScenarioName;
  recipient: Recipient;
  message: Markdown;
  /** When the message was reserved; the delivery record's and the recall's send time. */
  at: number;
  /** When its recall is due (the code's expiry); undefined when the scenario's messages are not recalled. */
  recallAt: number | undefined;
  /** Gives back what was reserved for the message (slots, a stored code); called when the send fails. */
  undo: () => Promise<unknown>;
  /** Extra fields of the `code.sent` and `code.send_failed` audit events (e.g. where the request came from). */
  fields?: Record<string, unknown>;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;

/**
 * The last steps of every message with a code: send it through the DingTalk client (its
 * call-rate gate and circuit breaker), and only once DingTalk took it, record it — the
 * `code.sent` audit event (metrics), a pending delivery record whose send result is read in
 * the background (silent drops), and its place in the recall due list. A failed send is
 * undone and audited `code.send_failed`; failing to record a sent message never undoes it.
 */
export function createDispatcher(deps: DispatchDeps) {
  const { dingtalk, deliveries, recalls, audit } = deps;

  async function dispatch(o: Outgoing, signal?: AbortSignal): Promise<{ taskId: string }> {
    const base = { userId: o.userId, scenario: o.scenario, verificationId: o.id, ...o.fields };
    let taskId: string;
    try {
      ({ taskId } = await dingtalk.sendMarkdown(o.recipient.dingtalkUserId, o.message, signal));
    } catch (e) {
      await o.undo();
      audit('code.send_failed', { ...base, error: isGatewayFailure(e) ? e.detail.kind : 'internal' });
      throw e;
    }
    const dingtalkUserId = o.recipient.dingtalkUserId;
    audit('code.sent', { ...base, dingtalkUserId, recipientSource: o.recipient.source, taskId });
    const { id: verificationId, userId, scenario, at } = o;
    await Promise.all([
      deliveries
        .track({
          verificationId,
          taskId,
          userId,
          scenario,
          dingtalkUserId,
          sentAt: at,
          checkedAt: at,
          ...PENDING,
        })
        .catch((e: unknown) =>
          audit('code.delivery_unrecorded', {
            verificationId,
            taskId,
            error: isGatewayFailure(e) ? e.detail.kind : 'internal',
          }),
        ),
      // Listed at the code's expiry; a newer code of this subject makes the older one due now.
      o.recallAt !== undefined &&
        recalls.schedule({
          verificationId,
          taskId,
          userId,
          scenario,
          createdAt: at,
          sentAt: at,
          dueAt: o.recallAt,
          reason: 'expired',
          attempts: 0,
        }),
    ]);
    return { taskId };
  }

  return { dispatch };
}
