import { invalidArgument } from './errors';

/**
 * The fields of a code an identity server made itself (DeliverCode, the HTTP hooks). The
 * gateway only delivers it: the code is never stored, logged or echoed in an error.
 */

/** The longest caller text sent: DingTalk advises keeping a work notification under 500 characters. */
export const MAX_CALLER_TEXT = 500;

/** The longest lifetime a delivered code may state: DingTalk recalls messages only within 24 hours. */
export const MAX_DELIVERED_TTL_SECONDS = 86_400;

/** A caller's code: 4-16 letters and digits (ZITADEL's phone codes have letters). */
export function callerCode(value: string, field = 'code'): string {
  const v = value.trim();
  if (!/^[A-Za-z0-9]{4,16}$/.test(v)) throw invalidArgument(field, 'must be 4-16 letters or digits');
  return v;
}

/** The caller's own rendered message: 1-500 characters once trimmed; '' when absent. */
export function callerText(value: string, field = 'text'): string {
  const v = value.trim();
  if (v.length > MAX_CALLER_TEXT)
    throw invalidArgument(field, `is ${v.length} characters; at most ${MAX_CALLER_TEXT} are sent`);
  return v;
}

/** The code's lifetime in seconds as the caller states it; 0 means the scenario's TTL (`fallback`). */
export function deliveredTtl(seconds: number, fallback: number, field = 'ttl_seconds'): number {
  if (seconds === 0) return fallback;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_DELIVERED_TTL_SECONDS)
    throw invalidArgument(
      field,
      `must be 1-${MAX_DELIVERED_TTL_SECONDS} seconds, or 0 for the scenario's TTL`,
    );
  return seconds;
}

/**
 * The code in a rendered message that carries no code field (Casdoor's `content`, a
 * Keycloak plugin's message): the whole text when it is a code, else its one run of 4-10
 * digits (every run, if repeated, the same). Undefined when there is none or several differ.
 */
export function codeInText(text: string): string | undefined {
  const t = text.trim();
  if (/^[A-Za-z0-9]{4,16}$/.test(t)) return t;
  const runs = new Set([...t.matchAll(/(?<!\d)\d{4,10}(?!\d)/g)].map((m) => m[0]));
  return runs.size === 1 ? [...runs][0] : undefined;
}
