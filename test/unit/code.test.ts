import { randomBytes } from 'node:crypto';
import {
  codeMatches,
  codeMatchesAny,
  digestCode,
  generateCode,
  generateVerificationId,
  judgeAttempt,
  type CodeRecord,
} from '../../src/domain/code';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const record = (over: Partial<CodeRecord> = {}): CodeRecord => ({
  id: 'v1',
  digest: digestCode(secret, 'v1', '123456'),
  recipient: 'u',
  createdAt: 0,
  expiresAt: 1000,
  maxAttempts: 5,
  ...over,
});

describe('generateCode', () => {
  it('draws exactly the requested number of digits', () => {
    for (const length of [4, 6, 8, 10])
      expect(generateCode(length, randomBytes)).toMatch(new RegExp(`^\\d{${length}}$`));
  });

  it('rejects 32-bit values above the last multiple of ten (no modulo bias)', () => {
    // Every word of the first draw is 0xFFFFFFFF and rejected; the second draw starts with 7.
    let call = 0;
    const source = (size: number) => {
      call += 1;
      const b = Buffer.alloc(size, call === 1 ? 0xff : 0);
      if (call === 2) b.writeUInt32BE(7, 0);
      return b;
    };
    expect(generateCode(1, source)).toBe('7');
    expect(call).toBe(2);
  });

  it('is roughly uniform over digits', () => {
    const counts = new Array(10).fill(0);
    for (const d of generateCode(20_000, randomBytes)) counts[Number(d)] += 1;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(250);
  });
});

describe('digests', () => {
  it('never contain the code and depend on id, code and secret', () => {
    const d = digestCode(secret, 'v1', '123456');
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(d).not.toContain('123456');
    expect(digestCode(secret, 'v2', '123456')).not.toBe(d);
    expect(digestCode(Buffer.from('other-secret-0123456789'), 'v1', '123456')).not.toBe(d);
  });

  it('codeMatches compares against the stored digest', () => {
    expect(codeMatches(secret, record(), '123456')).toBe(true);
    expect(codeMatches(secret, record(), '123457')).toBe(false);
    expect(codeMatches(secret, record({ digest: 'abcd' }), '123456')).toBe(false);
  });

  it('codeMatchesAny accepts a code under any of the keys, trying every key', () => {
    const previous = Buffer.from('fedcba9876543210fedcba9876543210');
    const old = record({ digest: digestCode(previous, 'v1', '123456') });
    expect(codeMatchesAny([secret, previous], old, '123456')).toBe(true);
    expect(codeMatchesAny([secret, previous], record(), '123456')).toBe(true);
    expect(codeMatchesAny([secret, previous], old, '123457')).toBe(false);
    expect(codeMatchesAny([secret], old, '123456')).toBe(false);
  });

  it('verification ids are 22 url-safe characters', () => {
    expect(generateVerificationId(randomBytes)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('judgeAttempt', () => {
  const yes = () => true;
  const no = () => false;

  it('reports a missing code as not found and a used one as already used', () => {
    expect(judgeAttempt({ state: 'missing' }, 0, yes)).toEqual({ result: 'not_found' });
    expect(judgeAttempt({ state: 'used', id: 'v1' }, 0, yes)).toEqual({ result: 'already_used', id: 'v1' });
  });

  it('refuses a locked subject without comparing, saying until when', () => {
    const matches = jest.fn(yes);
    expect(judgeAttempt({ state: 'locked', lockedUntil: 900 }, 100, matches)).toEqual({
      result: 'locked',
      lockedUntil: 900,
      lockedNow: false,
    });
    expect(matches).not.toHaveBeenCalled();
  });

  it('answers locked for the wrong code that locked the subject, and approves a right one', () => {
    const counted = { state: 'counted', record: record(), attempts: 2, lockedUntil: 600 } as const;
    expect(judgeAttempt(counted, 100, no)).toEqual({
      result: 'locked',
      lockedUntil: 600,
      lockedNow: true,
      id: 'v1',
    });
    expect(judgeAttempt(counted, 100, yes)).toEqual({ result: 'approve', id: 'v1' });
  });

  it('reports expiry before anything else, at the exact expiry instant', () => {
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 1 }, 1000, yes)).toEqual({
      result: 'expired',
      id: 'v1',
    });
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 1 }, 999, yes).result).toBe(
      'approve',
    );
  });

  it('refuses past the limit without comparing', () => {
    const matches = jest.fn(yes);
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 6 }, 0, matches).result).toBe(
      'too_many_attempts',
    );
    expect(matches).not.toHaveBeenCalled();
  });

  it('the last allowed attempt is still compared', () => {
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 5 }, 0, yes).result).toBe('approve');
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 5 }, 0, no)).toEqual({
      result: 'wrong_code',
      id: 'v1',
      attemptsRemaining: 0,
    });
  });

  it('counts down the remaining attempts', () => {
    expect(judgeAttempt({ state: 'counted', record: record(), attempts: 2 }, 0, no)).toMatchObject({
      attemptsRemaining: 3,
    });
  });
});
