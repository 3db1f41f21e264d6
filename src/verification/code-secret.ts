import type { Logger } from '../logger';
import type { VerificationStore } from './ports';

const SECRET_NAME = 'code-hmac';
/** The store-kept key's rotation state, next to the first key (which old versions keep using). */
const RING_NAME = 'code-hmac-ring';

/** The HMAC key of code digests, and how it stays the same on every replica. */
export interface CodeSecret {
  /** The key new codes are signed with; read at each use, since a key shared through the store can be re-adopted. */
  current(): Buffer;
  /** The keys a code is checked under: the newest first, then the one it replaced, if any. */
  accepted(): readonly Buffer[];
  /**
   * Runs with every health probe. A store that lost its data (a Redis restart without
   * persistence) gets this replica's key back, so replicas keep agreeing; if another
   * replica re-created a different key first, the store's key wins.
   */
  reconcile(): Promise<void>;
}

export interface CodeSecretRotation {
  /** CODE_SECRET_PREVIOUS: still accepted beside the configured key. */
  previous?: Buffer;
  /** CODE_SECRET_GENERATION of the store-kept key: a replica that starts with a higher one rotates it. */
  generation?: number;
  now?: () => number;
  /**
   * How long after a rotation new codes are still signed with the old key, so that every
   * running replica has read the new one (at its next store probe) before any code needs it.
   */
  graceMs?: number;
}

/**
 * CODE_SECRET when configured (with CODE_SECRET_PREVIOUS also accepted); otherwise a key
 * generated once and kept in the store, so every replica sharing it agrees, rotated by raising
 * CODE_SECRET_GENERATION (see keyRing).
 */
export async function createCodeSecret(
  store: VerificationStore,
  configured: Buffer | undefined,
  random: (size: number) => Buffer,
  logger: Logger,
  rotation: CodeSecretRotation = {},
): Promise<CodeSecret> {
  if (configured) {
    const accepted = rotation.previous ? [configured, rotation.previous] : [configured];
    return { current: () => configured, accepted: () => accepted, reconcile: async () => undefined };
  }
  const now = rotation.now ?? Date.now;
  let legacy = await store.getOrCreateSecret(SECRET_NAME, random(32).toString('base64'));
  let ring = parseRing(await store.getOrCreateSecret(RING_NAME, `0.0.${legacy}.`));
  ring = await rotate(store, ring, rotation.generation ?? 0, () => random(32).toString('base64'), {
    activeFrom: now() + (rotation.graceMs ?? 30_000),
    logger,
  });
  return {
    current: () => (ring.previous && now() < ring.activeFrom ? ring.previous : ring.current),
    accepted: () => ring.accepted,
    async reconcile() {
      const inStore = parseRing(await store.getOrCreateSecret(RING_NAME, ring.text));
      legacy = await store.getOrCreateSecret(SECRET_NAME, legacy);
      if (inStore.text === ring.text) return;
      if (inStore.generation > ring.generation)
        logger.info({ generation: inStore.generation }, 'adopted the rotated shared code secret');
      else
        logger.warn(
          { store: store.kind },
          'the shared code secret in the store changed (was the store emptied?); using the stored one',
        );
      ring = inStore;
    },
  };
}

/**
 * The store-kept keys, as one value under RING_NAME: `generation.activeFrom.current.previous`
 * (base64 keys, which hold no '.'). Generation 0 is the first key, SECRET_NAME's. `activeFrom`
 * is when new codes start being signed with `current`; until then with `previous`. Both keys
 * are accepted throughout, so a code verifies until its key has been rotated out twice.
 */
interface KeyRing {
  text: string;
  generation: number;
  activeFrom: number;
  current: Buffer;
  previous: Buffer | undefined;
  accepted: readonly Buffer[];
}

function parseRing(text: string): KeyRing {
  const [generation, activeFrom, current, previous] = text.split('.');
  const keys = [current, previous].filter(Boolean).map((k) => Buffer.from(k, 'base64'));
  return {
    text,
    generation: Number(generation),
    activeFrom: Number(activeFrom),
    current: keys[0],
    previous: keys[1],
    accepted: keys,
  };
}

/**
 * Raises the ring to `generation` with a fresh key, the current one becoming the previous,
 * by compare-and-set: of replicas starting together with the same generation one rotates and
 * the others adopt its ring; a replica with a lower generation adopts the higher one in force.
 */
async function rotate(
  store: VerificationStore,
  from: KeyRing,
  generation: number,
  freshKey: () => string,
  at: { activeFrom: number; logger: Logger },
): Promise<KeyRing> {
  let ring = from;
  for (let tries = 0; ring.generation < generation && tries < 10; tries++) {
    const next = `${generation}.${at.activeFrom}.${freshKey()}.${ring.current.toString('base64')}`;
    const inForce = await store.replaceSecret(RING_NAME, ring.text, next);
    if (inForce === next)
      at.logger.info(
        { generation, activeFrom: new Date(at.activeFrom).toISOString() },
        'rotated the shared code secret; the previous key is still accepted',
      );
    ring = parseRing(inForce || (await store.getOrCreateSecret(RING_NAME, next)));
  }
  return ring;
}
