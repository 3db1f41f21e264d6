import type { VerificationStore } from '../verification/ports';
import type { Guard } from './keyv-bindings';

type Raw = (args: string[]) => Promise<unknown>;

/** The mobile look-up cache on Redis: one string per key, expiring with its TTL (PX). */
export function redisMobiles(
  raw: Raw,
  guard: Guard,
  prefix: string,
): Pick<VerificationStore, 'getMobileUser' | 'putMobileUser'> {
  const keyOf = (key: string) => `${prefix}mobile:${key}`;
  return {
    getMobileUser: (key) =>
      guard('getMobileUser', async () => ((await raw(['GET', keyOf(key)])) as string | null) ?? undefined),

    putMobileUser: (key, dingtalkUserId, ttlMs) =>
      guard('putMobileUser', async () => {
        await raw(['SET', keyOf(key), dingtalkUserId, 'PX', String(Math.max(1, Math.ceil(ttlMs)))]);
      }),
  };
}
