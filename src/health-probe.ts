import type { Logger } from './logger';
import type { VerificationStore } from './verification/ports';

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
          if (!healthy) logger.info({ store: store.kind }, 'store reachable again; health SERVING');
          healthy = true;
          setUp(true);
        },
        (e: unknown) => {
          if (healthy)
            logger.warn(
              { store: store.kind, err: (e as Error).message },
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
