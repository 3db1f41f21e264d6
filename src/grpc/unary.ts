import { status, type handleUnaryCall, type ServerUnaryCall } from '@grpc/grpc-js';
import { isGatewayFailure } from '../domain/errors';
import type { Logger } from '../logger';
import { PRINCIPAL_HEADER } from './auth';
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
  /** Which credential the auth interceptor accepted ("admin-token", "caller-token"); undefined without one. */
  principal: string | undefined;
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
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    // Most calls never look at their signal (VerifyCode does no I/O that can be aborted), so
    // the AbortController, the cancel listener and the deadline timer are made on first use.
    let controller: AbortController | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const onCancel = () => controller!.abort();
    const signal = (): AbortSignal => {
      if (controller !== undefined) return controller.signal;
      controller = new AbortController();
      if (call.cancelled || deadlineMs <= Date.now()) controller.abort();
      else if (!done) {
        call.once('cancelled', onCancel);
        if (Number.isFinite(deadlineMs)) timer = setTimeout(onCancel, deadlineMs - Date.now());
      }
      return controller.signal;
    };
    const finish = () => {
      done = true;
      if (controller === undefined) return;
      if (timer) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    };
    const ctx: CallContext = {
      get signal() {
        return signal();
      },
      get peer() {
        return call.getPeer();
      },
      get principal() {
        const p = call.metadata.get(PRINCIPAL_HEADER)[0];
        return typeof p === 'string' ? p : undefined;
      },
    };
    body(call.request, ctx).then(
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
        observers.failure?.(failureKind(error));
        // `status`, not `code`: the log redacts every field named code (verification codes).
        const fields = { method, status: status[mapped.code], ms: Math.round(seconds * 1000) };
        if (mapped.unexpected) logger.error({ ...fields, err: error }, 'rpc failed unexpectedly');
        else logger.info({ ...fields, details: mapped.details }, 'rpc refused');
        callback({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
      },
    );
  };
}

/** A bounded metrics label: the error kind, and for DingTalk failures their class (what the operator must fix). */
function failureKind(error: unknown): string {
  if (!isGatewayFailure(error)) return 'internal';
  return error.detail.kind === 'upstream' ? `upstream_${error.detail.upstream}` : error.detail.kind;
}
