import { BindingSource, type Binding } from '../gen/dingtalk/gateway/v1/binding';
import {
  DeliveryStatus,
  GatewayMode,
  RecipientSource,
  VerifyResult,
  type GetConfigResponse,
  type GetDeliveryResponse,
  type SendCodeResponse,
  type TestScenarioResponse,
  type VerifyCodeResponse,
} from '../gen/dingtalk/gateway/v1/verification';
import { scenarioLabel } from './scenarios';

/**
 * Human-readable renderings of the gateway's responses, one function per response type.
 * They print only what the responses hold, and the responses hold no code, secret, token
 * or mobile number, so neither does anything printed here. Times are UTC, to the second,
 * with how far away they are, because operators compare them with logs and with "now".
 */

/** `2026-01-01T10:05:00Z (in 300 s)`; `now` is passed so callers and tests agree on it. */
export function when(date: Date | undefined, now: number): string {
  if (!date) return 'unknown';
  const iso = date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const seconds = Math.round((date.getTime() - now) / 1000);
  if (seconds === 0) return `${iso} (now)`;
  return seconds > 0 ? `${iso} (in ${seconds} s)` : `${iso} (${-seconds} s ago)`;
}

const RECIPIENT: Record<number, string> = {
  [RecipientSource.RECIPIENT_SOURCE_EXPLICIT]: 'as the request named it',
  [RecipientSource.RECIPIENT_SOURCE_BINDING]: "from the user's binding",
  [RecipientSource.RECIPIENT_SOURCE_MOBILE]: 'found by mobile number, and now bound',
};

export function formatSend(r: SendCodeResponse, now: number): string[] {
  return [
    `sent: verification id ${r.verificationId}, expires ${when(r.expiresAt, now)}`,
    `  to DingTalk user ${r.dingtalkUserId} (${RECIPIENT[r.recipientSource] ?? 'recipient source not reported'})`,
    `  DingTalk task ${r.taskId || 'unknown'}; next send accepted from ${when(r.resendAfter, now)}`,
    `  delivery: dtg delivery ${r.verificationId}`,
  ];
}

export function formatVerify(r: VerifyCodeResponse, now: number): string[] {
  const id = r.verificationId ? ` (verification id ${r.verificationId})` : '';
  switch (r.result) {
    case VerifyResult.VERIFY_RESULT_APPROVED:
      return [`approved: the code is right${id}; it is now used up`];
    case VerifyResult.VERIFY_RESULT_WRONG_CODE:
      return [
        `rejected: wrong code${id}; ${r.attemptsRemaining} attempt${r.attemptsRemaining === 1 ? '' : 's'} remaining`,
      ];
    case VerifyResult.VERIFY_RESULT_EXPIRED:
      return [`rejected: the code has expired${id}; send a new one`];
    case VerifyResult.VERIFY_RESULT_NOT_FOUND:
      return ['rejected: no code is outstanding for this user and scenario (never sent, or long gone)'];
    case VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS:
      return [`rejected: too many attempts${id}; the code is locked, send a new one`];
    case VerifyResult.VERIFY_RESULT_ALREADY_USED:
      return [`rejected: the code was already used${id}`];
    case VerifyResult.VERIFY_RESULT_LOCKED:
      return [
        `rejected: too many wrong codes for this user and scenario${id}; locked until ${when(r.lockedUntil, now)}`,
        '  no code is checked and none is sent until then',
      ];
    default:
      return [`unknown result ${r.result}`];
  }
}

const DELIVERY: Record<number, string> = {
  [DeliveryStatus.DELIVERY_STATUS_PENDING]: 'pending',
  [DeliveryStatus.DELIVERY_STATUS_DELIVERED]: 'delivered',
  [DeliveryStatus.DELIVERY_STATUS_DROPPED]: 'dropped',
  [DeliveryStatus.DELIVERY_STATUS_FAILED]: 'failed',
};

/** `what: word (DingTalk's explanation)`, the explanation only when it says more than the word. */
function deliveryLine(what: string, status: DeliveryStatus, detail: string, code: number): string {
  const word = DELIVERY[status] ?? `status ${status}`;
  const more = detail && detail !== word ? ` (${detail})` : '';
  const listed = code && !detail.includes(String(code)) ? ` [DingTalk code ${code}]` : '';
  return `${what}: ${word}${more}${listed}`;
}

export function formatTest(r: TestScenarioResponse): string[] {
  return [
    deliveryLine('test message', r.deliveryStatus, r.detail, r.dingtalkCode),
    `  to DingTalk user ${r.dingtalkUserId}, DingTalk task ${r.taskId || 'unknown'}`,
  ];
}

export function formatDelivery(r: GetDeliveryResponse, now: number): string[] {
  return [
    deliveryLine('delivery', r.deliveryStatus, r.detail, r.dingtalkCode),
    `  verification id ${r.verificationId}: ${scenarioLabel(r.scenario)} code for ${r.userId}`,
    `  to DingTalk user ${r.dingtalkUserId}, DingTalk task ${r.taskId || 'unknown'}`,
    `  sent ${when(r.sentAt, now)}, checked ${when(r.checkedAt, now)}`,
  ];
}

const BINDING_SOURCE: Record<number, string> = {
  [BindingSource.BINDING_SOURCE_DINGTALK_USER_ID]: 'by DingTalk userid',
  [BindingSource.BINDING_SOURCE_MOBILE]: 'by mobile number',
  [BindingSource.BINDING_SOURCE_UNION_ID]: 'by unionid',
  [BindingSource.BINDING_SOURCE_DINGTALK_LOGIN]: 'by DingTalk login',
  [BindingSource.BINDING_SOURCE_DINGTALK_IN_APP]: 'by DingTalk in-app login',
};

/** `alice → demo-alice (by mobile number), bound 2026-…`. */
export function formatBinding(b: Binding | undefined, now: number): string {
  if (!b) return 'no binding returned';
  const source = BINDING_SOURCE[b.source] ?? 'source not reported';
  return `${b.userId} → ${b.dingtalkUserId} (${source}), bound ${when(b.boundAt, now)}`;
}

/** Left-aligned columns, two spaces apart. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

const MODE: Record<number, string> = {
  [GatewayMode.GATEWAY_MODE_LIVE]: 'live (real DingTalk)',
  [GatewayMode.GATEWAY_MODE_SANDBOX]: 'sandbox (built-in DingTalk simulator)',
};

export function formatConfig(r: GetConfigResponse): string[] {
  const settings = table([
    ['sending', r.enabled ? 'enabled' : 'DISABLED (SendCode and TestScenario are refused)'],
    ['mode', MODE[r.mode] ?? `mode ${r.mode}`],
    ['agent id', String(r.agentId)],
    ['app key', r.appKey || '(not set)'],
    ['app secret', r.appSecretSet ? 'set' : 'NOT SET'],
    ['store', r.storeKind],
    ['api url', r.apiUrl],
    ['oapi url', r.oapiUrl],
    ['default locale', r.defaultLocale],
    [
      'version',
      r.version === 0
        ? '0 (nothing changed at run time)'
        : `${r.version}, changed ${r.updatedAt?.toISOString() ?? '?'} by ${r.updatedBy || '?'}`,
    ],
  ]);
  const scenarios = table([
    ['scenario', 'enabled', 'digits', 'ttl', 'attempts', 'resend after', 'sends/hour', 'recall', 'locales'],
    ...r.scenarios.map((s) => [
      scenarioLabel(s.scenario),
      s.enabled ? 'yes' : 'no',
      String(s.codeLength),
      `${s.ttlSeconds} s`,
      String(s.maxAttempts),
      `${s.resendIntervalSeconds} s`,
      String(s.maxSendsPerHour),
      s.recall ? 'yes' : 'no',
      s.templates.map((t) => t.locale).join(', '),
    ]),
  ]);
  return [...settings, '', ...scenarios];
}
