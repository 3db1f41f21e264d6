import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * One outstanding code as the store keeps it. The code itself is never stored:
 * only `digest`, an HMAC-SHA256 under the server secret of the id and the code.
 */
export interface CodeRecord {
  /** Verification id: unique per issued code. */
  id: string;
  /** Hex HMAC-SHA256(secret, `${id}:${code}`). */
  digest: string;
  /** DingTalk userid the code was sent to. */
  recipient: string;
  createdAt: number;
  expiresAt: number;
  maxAttempts: number;
}

/**
 * What a store returns after atomically counting one submission. With a FailureCheck the
 * store also counts it against the subject (see lockout.ts): `locked` when the subject was
 * locked already (nothing counted), and on `counted`, `lockedUntil` when this submission,
 * unless right, is the failure that locked it.
 */
export type AttemptSnapshot =
  | { state: 'missing' }
  | { state: 'used'; id: string }
  | { state: 'counted'; record: CodeRecord; attempts: number; lockedUntil?: number }
  | { state: 'locked'; lockedUntil: number };

/**
 * Whether a counted submission is compared with the code: the code is live and within its
 * attempts. Only these count as failures of the subject; stores apply the same test.
 */
export const isCompared = (record: CodeRecord, attempts: number, now: number): boolean =>
  now < record.expiresAt && attempts <= record.maxAttempts;

/** Random bytes source, injected so tests can be deterministic. */
export type RandomBytes = (size: number) => Buffer;

/**
 * Draws a numeric code of `length` digits, uniformly, by rejection sampling
 * 32-bit values (no modulo bias).
 */
export function generateCode(length: number, random: RandomBytes): string {
  let out = '';
  while (out.length < length) {
    const buf = random(4 * (length - out.length + 2));
    for (let i = 0; i + 4 <= buf.length && out.length < length; i += 4) {
      const n = buf.readUInt32BE(i);
      // 4294967290 is the largest multiple of 10 not above 2^32-1: reject values above it.
      if (n < 4_294_967_290) out += String(n % 10);
    }
  }
  return out;
}

/** A verification id: 16 random bytes, base64url. */
export const generateVerificationId = (random: RandomBytes): string => random(16).toString('base64url');

const hmac = (secret: Buffer, id: string, code: string): Buffer =>
  createHmac('sha256', secret).update(`${id}:${code}`).digest();

export const digestCode = (secret: Buffer, id: string, code: string): string =>
  hmac(secret, id, code).toString('hex');

/** Compares a submitted code with a record in constant time (over the digest). */
export function codeMatches(secret: Buffer, record: CodeRecord, code: string): boolean {
  const expected = Buffer.from(record.digest, 'hex');
  const actual = hmac(secret, record.id, code);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * codeMatches under each accepted key (the current one first, then the previous one during a
 * rotation). Every key is tried whatever the earlier ones gave, so the time taken does not
 * tell which key matched, or whether one did.
 */
export function codeMatchesAny(secrets: readonly Buffer[], record: CodeRecord, code: string): boolean {
  let matched = false;
  for (const secret of secrets) matched = codeMatches(secret, record, code) || matched;
  return matched;
}

export type Judgement =
  | { result: 'approve'; id: string }
  | { result: 'wrong_code'; id: string; attemptsRemaining: number }
  | { result: 'expired'; id: string }
  | { result: 'not_found' }
  | { result: 'too_many_attempts'; id: string }
  | { result: 'already_used'; id: string }
  /**
   * The subject is locked until `lockedUntil` after too many failed verifications across
   * codes; `lockedNow` when this submission (wrong) was the failure that locked it, then `id`
   * names the code it was compared with.
   */
  | { result: 'locked'; lockedUntil: number; lockedNow: boolean; id?: string };

/**
 * Judges one submission after the store has counted it. The order matters: a locked
 * subject is refused without looking at anything else; a missing code is "not found", a
 * used one "already used"; an expired code is "expired" whatever was typed; a submission
 * past the limit is refused without looking at the code; only then does the comparison
 * decide, and a wrong code that locked the subject says so. `matches` is called at most once.
 */
export function judgeAttempt(
  snapshot: AttemptSnapshot,
  now: number,
  matches: (r: CodeRecord) => boolean,
): Judgement {
  if (snapshot.state === 'locked')
    return { result: 'locked', lockedUntil: snapshot.lockedUntil, lockedNow: false };
  if (snapshot.state === 'missing') return { result: 'not_found' };
  if (snapshot.state === 'used') return { result: 'already_used', id: snapshot.id };
  const { record, attempts } = snapshot;
  if (now >= record.expiresAt) return { result: 'expired', id: record.id };
  if (attempts > record.maxAttempts) return { result: 'too_many_attempts', id: record.id };
  if (matches(record)) return { result: 'approve', id: record.id };
  if (snapshot.lockedUntil !== undefined) {
    return { result: 'locked', lockedUntil: snapshot.lockedUntil, lockedNow: true, id: record.id };
  }
  return { result: 'wrong_code', id: record.id, attemptsRemaining: record.maxAttempts - attempts };
}
