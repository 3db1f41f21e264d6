import type { ScenarioName } from './scenario';

/** A localized markdown message with `{code}` and `{minutes}` placeholders. */
export interface Template {
  title: string;
  text: string;
}

/** One scenario's effective rules. Durations are in seconds, as configured. */
export interface ScenarioPolicy {
  scenario: ScenarioName;
  enabled: boolean;
  codeLength: number;
  ttlSeconds: number;
  maxAttempts: number;
  resendIntervalSeconds: number;
  maxSendsPerHour: number;
  /**
   * Whether a code's message is recalled from the user's chat once the code is approved,
   * replaced, locked or expired (default true; off keeps e.g. risk warnings readable).
   */
  recall: boolean;
  /** Templates by BCP 47 locale tag. */
  templates: Record<string, Template>;
}

/** The send limits of one (user, scenario), in milliseconds. */
export interface SendRule {
  cooldownMs: number;
  windowMs: number;
  maxInWindow: number;
}

export const HOUR_MS = 3_600_000;

export const sendRuleOf = (p: ScenarioPolicy): SendRule => ({
  cooldownMs: p.resendIntervalSeconds * 1000,
  windowMs: HOUR_MS,
  maxInWindow: p.maxSendsPerHour,
});

export type SendDecision =
  | { allowed: true; history: number[]; resendAt: number }
  | { allowed: false; reason: 'cooldown' | 'quota'; retryAt: number };

/**
 * Decides whether one more send is allowed, given the times (ms) of earlier sends.
 * Cooldown is checked before the rolling-window quota. A send stamped after `now`
 * (by a replica whose clock runs ahead) still counts: ignoring it would let two
 * replicas a few milliseconds apart both send through one cooldown. On success the
 * returned history holds only the sends still inside the window plus this one, sorted.
 * This is the reference rule; store backends that run it atomically elsewhere
 * (a Lua script, one SQL statement) must agree with it.
 */
export function decideSend(history: readonly number[], now: number, rule: SendRule): SendDecision {
  const recent = history.filter((t) => t > now - rule.windowMs).sort((a, b) => a - b);
  const last = recent.length > 0 ? recent[recent.length - 1] : undefined;
  if (last !== undefined && rule.cooldownMs > 0 && now - last < rule.cooldownMs) {
    return { allowed: false, reason: 'cooldown', retryAt: last + rule.cooldownMs };
  }
  if (recent.length >= rule.maxInWindow) {
    return {
      allowed: false,
      reason: 'quota',
      retryAt: recent[recent.length - rule.maxInWindow] + rule.windowMs,
    };
  }
  recent.push(now);
  recent.sort((a, b) => a - b);
  return { allowed: true, history: recent, resendAt: now + rule.cooldownMs };
}

export const DAY_MS = 86_400_000;

/**
 * A user's message budget over every scenario, test messages included: at most `perDay`
 * messages in any rolling 24 hours, and at most `sinceSuccess` since the user's last approved
 * code (counted within the same 24 hours, so a budget nobody resets still refills). 0 turns
 * either off. Each is a send history of its own, kept under the user's id.
 */
export interface UserBudget {
  perDay: number;
  sinceSuccess: number;
}

/** The rules of a user's budget, by the send subject that keeps each history; the ones in force only. */
export function userBudgetRules(
  b: UserBudget,
): Array<{ kind: 'user_day' | 'since_success'; rule: SendRule }> {
  const rules: Array<{ kind: 'user_day' | 'since_success'; rule: SendRule }> = [];
  if (b.perDay > 0)
    rules.push({ kind: 'user_day', rule: { cooldownMs: 0, windowMs: DAY_MS, maxInWindow: b.perDay } });
  if (b.sinceSuccess > 0)
    rules.push({
      kind: 'since_success',
      rule: { cooldownMs: 0, windowMs: DAY_MS, maxInWindow: b.sinceSuccess },
    });
  return rules;
}

/**
 * What a reservation of several send histories at once decides (`reserveSends`): all are
 * recorded, or none, and then the first that refused says why (`index` into the request).
 */
export type SendsDecision =
  | { allowed: true; resendAt: number }
  | { allowed: false; index: number; reason: 'cooldown' | 'quota'; retryAt: number };

/**
 * decideSend over several histories together (a scenario's and a user's budget, say): allowed
 * when every one allows, the first refusal otherwise; `resendAt` is the first history's.
 * Returns the new histories for a store to record. The reference for backends that run it
 * atomically elsewhere.
 */
export function decideSends(
  histories: ReadonlyArray<readonly number[]>,
  now: number,
  rules: readonly SendRule[],
): { decision: SendsDecision; histories: number[][] } {
  const next: number[][] = [];
  for (let i = 0; i < rules.length; i++) {
    const d = decideSend(histories[i], now, rules[i]);
    if (!d.allowed)
      return { decision: { allowed: false, index: i, reason: d.reason, retryAt: d.retryAt }, histories: [] };
    next.push(d.history);
  }
  return { decision: { allowed: true, resendAt: now + (rules[0]?.cooldownMs ?? 0) }, histories: next };
}
