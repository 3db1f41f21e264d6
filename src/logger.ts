import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear (two levels deep). Codes, secrets, tokens
 * and mobile numbers must never reach a log line; this is the safety net behind
 * not logging them in the first place.
 */
export const REDACTED_PATHS = [
  'code',
  'mobile',
  'appSecret',
  'app_secret',
  'accessToken',
  'access_token',
  'token',
  'authorization',
  'codeSecret',
  'secret',
].flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dingtalk-gateway' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
