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
