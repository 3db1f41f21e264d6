import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Keys pino censors wherever they appear, up to two levels deep. Codes, secrets, tokens
 * and mobile numbers must never reach a log line; this is the safety net behind not
 * logging them in the first place.
 */
export const REDACTED_KEYS = [
  'code',
  'mobile',
  'appSecret',
  'app_secret',
  'accessToken',
  'access_token',
  'token',
  'authorization',
  'codeSecret',
  'codeSecretPrevious',
  'secret',
] as const;

/** The same rule as pino `redact` paths (`key`, `*.key`, `*.*.key`). */
export const REDACTED_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

const CENSOR = '[redacted]';
const SENSITIVE: ReadonlySet<string> = new Set(REDACTED_KEYS);

/**
 * `value` with every sensitive key in its first `levels` levels censored: the same object
 * when there is none (the common case, so a log line costs one walk over a few keys),
 * otherwise a copy; the caller's object is never changed. This replaces pino's `redact`
 * option, which matched 30 wildcard paths against every line and was the largest single
 * cost of a VerifyCode call.
 */
function censor(value: unknown, levels: number, skip?: string): unknown {
  if (typeof value !== 'object' || value === null || ArrayBuffer.isView(value)) return value;
  let copy: Record<string, unknown> | undefined;
  const source = value as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (key === skip) continue;
    const v = source[key];
    const next = SENSITIVE.has(key) ? (v === undefined ? v : CENSOR) : levels > 1 ? censor(v, levels - 1) : v;
    if (next !== v) {
      copy ??= (Array.isArray(source) ? [...source] : { ...source }) as Record<string, unknown>;
      copy[key] = next;
    }
  }
  return copy ?? value;
}

const serializeErr = pino.stdSerializers.err;

/**
 * pino's isoTime, formatted once per millisecond: under load many lines share a
 * millisecond, and Date#toISOString was a visible share of a VerifyCode call.
 */
let lastMs = -1;
let lastTime = '';
const isoTime = (): string => {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastTime = `,"time":"${new Date(ms).toISOString()}"`;
  }
  return lastTime;
};
const ERR = 'err';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dingtalk-gateway' },
      timestamp: isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => censor(object, 3, ERR) as Record<string, unknown>,
      },
      // An error is censored once serialized (pino runs serializers after formatters.log).
      serializers: { [ERR]: (e: unknown) => censor(serializeErr(e as Error), 2) },
    },
    destination,
  );
}

export type { Logger };
