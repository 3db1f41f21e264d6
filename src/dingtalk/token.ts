import { cancelled } from '../domain/errors';

export interface FetchedToken {
  token: string;
  /** Lifetime DingTalk announced (expireIn / expires_in), in seconds. */
  expiresInSeconds: number;
}

export interface TokenCacheOptions {
  /** Fetches a fresh token. Shared by every waiter, so it gets no caller's signal. */
  fetch: () => Promise<FetchedToken>;
  now: () => number;
  /** Refresh this long before expiry; default 5 minutes, at most half the token's lifetime. */
  refreshBeforeMs?: number;
}

/**
 * The access token of one app key. DingTalk throttles apps that call the token API
 * often, so a token is reused until shortly before it expires and concurrent
 * refreshes share one fetch.
 */
export interface TokenCache {
  /** The cached token, or a fresh one. Rejects with `cancelled` when `signal` aborts first. */
  get(signal?: AbortSignal): Promise<string>;
  /** Forgets `token` if it is still the cached one (a later token is kept). */
  invalidate(token: string): void;
  /**
   * Forgets every token, and the answer of a fetch still under way: the credentials changed,
   * so nothing fetched with the old ones may be used.
   */
  clear(): void;
  /** Fetches started so far. */
  readonly fetches: number;
}

interface Entry {
  token: string;
  expiresAt: number;
  refreshAt: number;
}

export const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;

export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const { fetch, now } = options;
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  let current: Entry | undefined;
  let inflight: Promise<string> | undefined;
  let fetches = 0;
  let generation = 0;

  const refresh = (): Promise<string> => {
    if (inflight) return inflight;
    fetches++;
    const fetchedFor = generation;
    inflight = (async () => {
      try {
        let fetched: FetchedToken;
        try {
          fetched = await fetch();
        } catch (e) {
          if (fetchedFor !== generation) return await refresh();
          throw e;
        }
        // Cleared while fetching: this token (or failure) belongs to the old credentials.
        if (fetchedFor !== generation) return await refresh();
        const at = now();
        const lifeMs = fetched.expiresInSeconds * 1000;
        current = {
          token: fetched.token,
          expiresAt: at + lifeMs,
          refreshAt: at + lifeMs - Math.min(refreshBeforeMs, lifeMs / 2),
        };
        return fetched.token;
      } finally {
        if (fetchedFor === generation) inflight = undefined;
      }
    })();
    return inflight;
  };

  return {
    async get(signal) {
      if (signal?.aborted) throw cancelled();
      const entry = current;
      if (entry && now() < entry.refreshAt) return entry.token;
      try {
        return await untilAborted(refresh(), signal);
      } catch (e) {
        // An early refresh that fails leaves the old token usable until it really expires.
        if (!signal?.aborted && entry && current === entry && now() < entry.expiresAt) return entry.token;
        throw e;
      }
    },
    invalidate(token) {
      if (current?.token === token) current = undefined;
    },
    clear() {
      generation++;
      current = undefined;
      inflight = undefined;
    },
    get fetches() {
      return fetches;
    },
  };
}

/** Waits for `promise`, or rejects with `cancelled` as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
