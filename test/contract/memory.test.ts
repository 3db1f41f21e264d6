import { createMemoryStore } from '../../src/store/memory';
import { describeStoreContract } from './store.contract';

describeStoreContract('memory', async () => {
  const store = createMemoryStore({ sweepIntervalMs: 50 });
  return { store, peer: store, cleanup: () => store.close() };
});

describe('memory store sweep', () => {
  it('deletes expired codes and histories without being asked, so memory follows the live codes', async () => {
    let now = 1_000;
    const store = createMemoryStore({ now: () => now, sweepIntervalMs: 20 });
    try {
      const record = { id: 'c', digest: 'd', recipient: 'r', createdAt: 0, expiresAt: 1, maxAttempts: 1 };
      for (let i = 0; i < 100; i++) await store.saveCode({ userId: `u${i}`, scenario: 'login' }, record, 500);
      now += 501;
      await new Promise((r) => setTimeout(r, 100));
      // Back to a time when the codes were live: only the sweep can have removed them.
      now -= 501;
      expect(await store.countAttempt({ userId: 'u0', scenario: 'login' })).toEqual({ state: 'missing' });
    } finally {
      await store.close();
    }
  });
});
