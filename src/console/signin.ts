import { rateLimited } from '../domain/errors';
import { sameSecret } from './session';

export interface SignInGuardOptions {
  adminToken: string;
  now: () => number;
  /** Failed sign-ins one address may make per window; default 5. */
  maxFailures?: number;
  /** Default 15 min. */
  windowMs?: number;
  /** Addresses remembered at most, so a flood of sources cannot grow memory; default 10 000. */
  maxAddresses?: number;
}

/**
 * Checks the admin token (hashed, constant time) and limits failed attempts per client
 * address: after `maxFailures` within `windowMs` the address is refused with 429 until the
 * window of its first failure ends, whatever it presents. A success clears its count.
 */
export function createSignInGuard(o: SignInGuardOptions) {
  const maxFailures = o.maxFailures ?? 5;
  const windowMs = o.windowMs ?? 15 * 60_000;
  const maxAddresses = o.maxAddresses ?? 10_000;
  const failures = new Map<string, { first: number; count: number }>();

  const current = (ip: string, t: number) => {
    const f = failures.get(ip);
    if (f && t - f.first >= windowMs) {
      failures.delete(ip);
      return undefined;
    }
    return f;
  };

  return {
    /**
     * True when `presented` is the admin token. Throws rate_limited while the address is
     * locked out; the token is not even compared then.
     */
    check(ip: string, presented: string): boolean {
      const t = o.now();
      const f = current(ip, t);
      if (f && f.count >= maxFailures) throw rateLimited(f.first + windowMs - t, 'too many failed sign-ins');
      if (sameSecret(presented, o.adminToken)) {
        failures.delete(ip);
        return true;
      }
      if (f) f.count += 1;
      else {
        if (failures.size >= maxAddresses) failures.delete(failures.keys().next().value as string);
        failures.set(ip, { first: t, count: 1 });
      }
      return false;
    },
  };
}

export type SignInGuard = ReturnType<typeof createSignInGuard>;
