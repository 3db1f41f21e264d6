import { status, type handleUnaryCall, type ServerUnaryCall } from '@grpc/grpc-js';
import { isGatewayFailure } from '../domain/errors';
import type { Logger } from '../logger';
import { toStatus } from './status';

/** Where a call's outcome is reported: the log, and (optionally) metrics. */
export interface Observers {
  logger: Logger;
  observeRpc?: (method: string, code: string, seconds: number) => void;
  failure?: (kind: string) => void;
}

/** What a handler body receives besides the request. */
export interface CallContext {
  /** Aborted when the caller cancels or its deadline passes; pass it to every I/O. */
  signal: AbortSignal;
  peer: string;
}

/**
 * Adapts an async handler to grpc-js: derives an AbortSignal from the call's
 * cancellation and deadline, maps every error through toStatus, and logs one line
 * per call (method, status, duration; never request fields).
 */
export function unary<Req, Res>(
  method: string,
  observers: Observers,
  body: (request: Req, ctx: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  const { logger } = observers;
  const short = method.slice(method.lastIndexOf('.') + 1);
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const started = performance.now();
    const controller = new AbortController();
    const onCancel = () => controller.abort();
    call.once('cancelled', onCancel);
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const timer = Number.isFinite(deadlineMs)
      ? setTimeout(onCancel, Math.max(0, deadlineMs - Date.now()))
      : undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    };
    body(call.request, { signal: controller.signal, peer: call.getPeer() }).then(
      (response) => {
        finish();
        const seconds = (performance.now() - started) / 1000;
        observers.observeRpc?.(short, 'OK', seconds);
        if (logger.isLevelEnabled('debug'))
          logger.debug({ method, status: 'OK', ms: Math.round(seconds * 1000) }, 'rpc');
        callback(null, response);
      },
      (error: unknown) => {
        finish();
        const mapped = toStatus(error, Number.isFinite(deadlineMs) && Date.now() >= deadlineMs);
        const seconds = (performance.now() - started) / 1000;
        observers.observeRpc?.(short, status[mapped.code], seconds);
        observers.failure?.(isGatewayFailure(error) ? error.detail.kind : 'internal');
        const fields = { method, code: status[mapped.code], ms: Math.round(seconds * 1000) };
        if (mapped.unexpected) logger.error({ ...fields, err: error }, 'rpc failed unexpectedly');
        else logger.info({ ...fields, details: mapped.details }, 'rpc refused');
        callback({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
      },
    );
  };
}
