import type { Binding } from '../domain/binding';
import { GatewayFailure, isGatewayFailure, notBound } from '../domain/errors';
import { mobileCacheKey, type NormalisedMobile } from '../domain/mobile';
import type { AuditSink, DingTalkPort, VerificationStore } from './ports';

export type RecipientSource = 'explicit' | 'binding' | 'mobile';

export interface Recipient {
  dingtalkUserId: string;
  source: RecipientSource;
}

export interface RecipientTarget {
  /** The identity server's user id; '' when the caller names none (a hook addressed by mobile only). */
  userId: string;
  /** A DingTalk userid to send to as it is; ''. */
  dingtalkUserId: string;
  /** The number to look the user up by when nothing else names them; undefined when none. */
  mobile: NormalisedMobile | undefined;
}

export interface RecipientDeps {
  store: Pick<VerificationStore, 'getBinding' | 'putBinding' | 'getMobileUser' | 'putMobileUser'>;
  dingtalk: Pick<DingTalkPort, 'findUserIdByMobile'>;
  now: () => number;
  audit: AuditSink;
  /** The key the cache's names are made with (the code secret), read at each use. */
  secret: () => Buffer;
  /** How long a found userid is cached across replicas; 0 = no cache. */
  mobileCacheMs: number;
}

/** A number DingTalk knows no user by is remembered this long at most: an employee added now is found soon. */
export const UNKNOWN_MOBILE_CACHE_MS = 60_000;

export type RecipientResolver = ReturnType<typeof createRecipientResolver>;

/**
 * Chooses the DingTalk user a message goes to: a DingTalk userid the caller named, else the
 * user's binding, else a look-up by mobile (getbymobile), whose result is remembered twice:
 * as the user's binding when the caller named a user, and in the store's look-up cache under
 * a keyed hash of the number (found users for `mobileCacheMs`, unknown numbers for a minute),
 * so a storm of logins by mobile becomes one look-up per number across every replica.
 */
export function createRecipientResolver(deps: RecipientDeps) {
  const { store, dingtalk, now, audit, mobileCacheMs } = deps;

  /** Never fails on the cache: a store that cannot keep the answer costs only the next look-up. */
  const remember = (key: string, userId: string | undefined) =>
    store
      .putMobileUser(
        key,
        userId ?? '',
        userId ? mobileCacheMs : Math.min(mobileCacheMs, UNKNOWN_MOBILE_CACHE_MS),
      )
      .catch((e: unknown) =>
        audit('mobile.cache_failed', { error: isGatewayFailure(e) ? e.detail.kind : 'internal' }),
      );

  async function byMobile(mobile: NormalisedMobile, signal?: AbortSignal): Promise<string | undefined> {
    if (mobileCacheMs <= 0) return dingtalk.findUserIdByMobile(mobile.lookup, signal);
    const key = mobileCacheKey(deps.secret(), mobile);
    const cached = await store.getMobileUser(key);
    if (cached !== undefined) return cached === '' ? undefined : cached;
    const found = await dingtalk.findUserIdByMobile(mobile.lookup, signal);
    await remember(key, found);
    return found;
  }

  async function resolve(target: RecipientTarget, signal?: AbortSignal): Promise<Recipient> {
    if (target.dingtalkUserId) return { dingtalkUserId: target.dingtalkUserId, source: 'explicit' };
    const binding = target.userId ? await store.getBinding(target.userId) : undefined;
    if (binding) return { dingtalkUserId: binding.dingtalkUserId, source: 'binding' };
    if (!target.mobile) throw notBound(target.userId);
    const found = await byMobile(target.mobile, signal);
    if (!found) throw unknownMobile(target.userId);
    if (target.userId) {
      const created: Binding = {
        userId: target.userId,
        dingtalkUserId: found,
        source: 'mobile',
        boundAt: now(),
      };
      await store.putBinding(created);
      audit('binding.created', { userId: target.userId, dingtalkUserId: found, source: 'mobile' });
    }
    return { dingtalkUserId: found, source: 'mobile' };
  }

  return { resolve };
}

/** No active DingTalk user has the number: final for this number (a retry finds no one either). */
const unknownMobile = (userId: string): GatewayFailure =>
  userId
    ? notBound(userId)
    : new GatewayFailure({
        kind: 'not_bound',
        userId: '',
        message: 'no active DingTalk user has this mobile number, so the code could not be sent',
      });
