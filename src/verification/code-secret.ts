import type { Logger } from '../logger';
import type { VerificationStore } from './ports';

const SECRET_NAME = 'code-hmac';

/** The HMAC key of code digests, and how it stays the same on every replica. */
export interface CodeSecret {
  /** The key in force; read at each use, since a key shared through the store can be re-adopted. */
  current(): Buffer;
  /**
   * Runs with every health probe. A store that lost its data (a Redis restart without
   * persistence) gets this replica's key back, so replicas keep agreeing; if another
   * replica re-created a different key first, the store's key wins.
   */
  reconcile(): Promise<void>;
}

/**
 * CODE_SECRET when configured; otherwise a key generated once and kept in the store, so
 * every replica sharing it agrees.
 */
export async function createCodeSecret(
  store: VerificationStore,
  configured: Buffer | undefined,
  random: (size: number) => Buffer,
  logger: Logger,
): Promise<CodeSecret> {
  if (configured) return { current: () => configured, reconcile: async () => undefined };
  let shared = await store.getOrCreateSecret(SECRET_NAME, random(32).toString('base64'));
  let key = Buffer.from(shared, 'base64');
  return {
    current: () => key,
    async reconcile() {
      const inStore = await store.getOrCreateSecret(SECRET_NAME, shared);
      if (inStore === shared) return;
      logger.warn(
        { store: store.kind },
        'the shared code secret in the store changed (was the store emptied?); using the stored one',
      );
      shared = inStore;
      key = Buffer.from(inStore, 'base64');
    },
  };
}
