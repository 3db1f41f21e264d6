import type { HttpError } from '../http/status';
import type { DeliverCodeOutput } from '../verification/deliver';
import type { HookReplies, Reply } from './route';

const JSON_TYPE = 'application/json';

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(value),
  type: JSON_TYPE,
  headers,
});

/** What a caller may learn of a delivery: never the code, the mobile or the message. */
export const deliveryFields = (out: DeliverCodeOutput) => ({
  delivery_id: out.deliveryId,
  task_id: out.taskId,
  dingtalk_user_id: out.dingtalkUserId,
  recipient_source: out.recipientSource,
  expires_at: new Date(out.expiresAt).toISOString(),
});

/**
 * Our JSON answers, for callers that take any 2xx and log the body of anything else (Kratos,
 * ZITADEL, Logto, the generic route): 200 with the delivery, 202 while it is under way, and
 * errors as `{"error":{"code","message"}}` with their status and retry-after.
 */
export function jsonReplies(opts: { pendingStatus?: number } = {}): HookReplies {
  return {
    ok: (out, replayed) => json(200, { status: 'sent', replayed, ...deliveryFields(out) }),
    pending: (id) =>
      json(opts.pendingStatus ?? 202, {
        status: 'pending',
        ...(id === undefined ? {} : { delivery_id: id }),
      }),
    error: (e: HttpError) =>
      json(e.status, { error: { code: e.request ?? e.kind, message: e.message } }, e.headers),
  };
}

/**
 * Supabase Auth's hook format: success is 200 (202 while under way) with `{}`; an error is
 * `{"error":{"http_code":N,"message":"…"}}`, which Supabase shows to its user; it retries
 * only 429 and 503, after `retry-after`.
 */
export const supabaseReplies: HookReplies = {
  ok: () => json(200, {}),
  pending: () => json(202, {}),
  error: (e) => json(e.status, { error: { http_code: e.status, message: e.message } }, e.headers),
};

/**
 * Authentik shows a failed provider's response text to the user as a validation error, so
 * errors are plain text; success is any non-error status.
 */
export const authentikReplies: HookReplies = {
  ...jsonReplies(),
  error: (e) => ({
    status: e.status,
    body: e.message,
    type: 'text/plain; charset=utf-8',
    headers: e.headers,
  }),
};
