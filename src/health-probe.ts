import type { Logger } from './logger';
import type { VerificationStore } from './verification/ports';

/** The store's kind, and for Redis its topology and the master in use now (for logs and metrics). */
export function storeInfo(store: VerificationStore): { kind: string; topology: string; master: string } {
  const redis = (store as { redis?: { topology: string; master(): string } }).redis;
  return redis
    ? { kind: store.kind, topology: redis.topology, master: redis.master() }
    : { kind: store.kind, topology: store.kind === 'memory' ? 'memory' : 'single', master: '' };
}

export interface HealthProbe {
  /** Whether the last probe reached the store. */
  up(): boolean;
  stop(): void;
}

/**
 * Health follows the store: every `everyMs` it is pinged (then `alsoCheck` runs), and
 * `setUp` hears NOT_SERVING while it cannot be reached, SERVING again when it returns.
 */
export function startHealthProbe(
  store: VerificationStore,
  alsoCheck: () => Promise<void>,
  setUp: (up: boolean) => void,
  logger: Logger,
  everyMs: number,
): HealthProbe {
  let healthy = true;
  let probing = false;
  const timer = setInterval(() => {
    // A probe waiting on a silent store must not be joined by more.
    if (probing) return;
    probing = true;
    store
      .ping()
      .then(alsoCheck)
      .then(
        () => {
          if (!healthy)
            logger.info({ store: store.kind, ...storeInfo(store) }, 'store reachable again; health SERVING');
          healthy = true;
          setUp(true);
        },
        (e: unknown) => {
          if (healthy)
            logger.warn(
              { store: store.kind, ...storeInfo(store), err: (e as Error).message },
              'store unreachable; health NOT_SERVING',
            );
          healthy = false;
          setUp(false);
        },
      )
      .finally(() => (probing = false));
  }, everyMs);
  timer.unref();
  return { up: () => healthy, stop: () => clearInterval(timer) };
}
