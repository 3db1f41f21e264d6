import { createHash, createHmac } from 'node:crypto';
import type { HookMessage } from '../config/hooks';
import { createDeadlines } from '../deadlines';
import { isGatewayFailure } from '../domain/errors';
import { toHttpError } from '../http/status';
import type { Logger } from '../logger';
import type { DeliverCode } from '../verification/deliver';
import type { AuditSink } from '../verification/ports';
import type { HookRequest, HookRoute, Reply } from './route';

export interface PipelineDeps {
  deliver: DeliverCode['deliverCode'];
  /** The key the body's hash is made with (the code secret): the store never sees a guessable hash of a code. */
  secret: () => Buffer;
  /** How long a request waits for its delivery before it is answered "accepted" (callers give up at 5 s). */
  answerWithinMs: number;
  audit: AuditSink;
  logger: Logger;
}

export type Pipeline = ReturnType<typeof createPipeline>;

/** What the answer deadline rejects with: the delivery is still under way, not failed. */
const LATE = new Error('the delivery is still under way');
const passOn = (cause: unknown) => cause as Error;

/**
 * One hook request, whatever the route: its credential or signature, its body, then
 * DeliverCode under an idempotency key — the caller's own, else the id its signature covers
 * (a webhook id), else a keyed hash of the body — so a retried delivery answers the first
 * one's result across every replica and sends no second message. An answer waits at most
 * `answerWithinMs`; what is still under way then goes on in the background (GetDelivery shows
 * it) and the caller is told it was accepted. Every error goes through toHttpError.
 */
export function createPipeline(deps: PipelineDeps) {
  const { deliver, answerWithinMs, audit, logger } = deps;
  const background = new Set<Promise<unknown>>();
  // One timer for every request's answer deadline (they all get the same time).
  const answerBy = createDeadlines(answerWithinMs, () => LATE);

  const keyOf = (route: HookRoute, req: HookRequest, callerId: string | undefined): string =>
    callerId !== undefined
      ? createHash('sha256').update(`${route.name}\n${callerId}`).digest('base64url')
      : createHmac('sha256', deps.secret()).update(`${route.name}\n`).update(req.body).digest('base64url');

  async function run(route: HookRoute, message: HookMessage, req: HookRequest): Promise<Reply> {
    try {
      const callerId = route.authenticate(req);
      const d = route.parse(req);
      let deliveryId: string | undefined;
      const waiting = new AbortController();
      const work = deliver(
        {
          userId: d.userId ?? '',
          dingtalkUserId: '',
          mobile: d.mobile,
          scenario: d.scenario,
          code: d.code,
          text: message === 'caller' ? (d.text ?? '') : '',
          locale: d.locale ?? '',
          ttlSeconds: d.ttlSeconds ?? 0,
          idempotencyKey: d.idempotencyKey || keyOf(route, req, callerId),
          clientIp: d.clientIp ?? '',
          origin: route.name,
        },
        { waitSignal: waiting.signal, onDeliveryId: (id) => (deliveryId = id) },
      );
      let first: Awaited<typeof work> | undefined;
      try {
        first = await answerBy.bound(work, passOn);
      } catch (e) {
        if (e !== LATE) throw e;
      }
      if (first !== undefined) return route.replies.ok(first.value, first.replayed);
      // A duplicate waiting for the first request stops waiting; this request's own work goes on.
      waiting.abort();
      finishInBackground(route, work, deliveryId);
      return route.replies.pending(deliveryId);
    } catch (e) {
      const mapped = toHttpError(e);
      if (mapped.unexpected) logger.error({ err: e, hook: route.name }, 'hook request failed unexpectedly');
      return route.replies.error(mapped);
    }
  }

  function finishInBackground(
    route: HookRoute,
    work: Promise<unknown>,
    deliveryId: string | undefined,
  ): void {
    audit('hook.answered_pending', { hook: route.name, verificationId: deliveryId, afterMs: answerWithinMs });
    const done = work
      .then(
        () => audit('hook.completed_late', { hook: route.name, verificationId: deliveryId }),
        (e: unknown) =>
          audit('hook.failed_late', {
            hook: route.name,
            verificationId: deliveryId,
            error: isGatewayFailure(e) ? e.detail.kind : 'internal',
          }),
      )
      .finally(() => background.delete(done));
    background.add(done);
  }

  return {
    run,
    /** Waits up to `graceMs` for deliveries still finishing after their answer (shutdown). */
    async drain(graceMs: number): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(background),
        new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]).finally(() => clearTimeout(timer));
    },
  };
}
