import { createMemoryStore } from '../../src/store/memory';
import { pendingDelivery } from './fixtures';
import { describeStoreContract } from './store.contract';

describeStoreContract('memory', async () => {
  const store = createMemoryStore({ sweepIntervalMs: 50 });
  return { store, peer: store, cleanup: () => store.close() };
});

describe('memory store sweep', () => {
  it('deletes expired codes and delivery records without being asked, a slice at a time', async () => {
    let now = 1_000;
    // 100 codes in slices of 7: the sweep needs many turns, resuming where it stopped.
    const store = createMemoryStore({ now: () => now, sweepIntervalMs: 10, sweepSliceSize: 7 });
    try {
      const record = { id: 'c', digest: 'd', recipient: 'r', createdAt: 0, expiresAt: 1, maxAttempts: 1 };
      for (let i = 0; i < 100; i++) await store.saveCode({ userId: `u${i}`, scenario: 'login' }, record, 500);
      for (let i = 0; i < 30; i++)
        await store.putDelivery({ ...pendingDelivery, verificationId: `v${i}` }, 500);
      now += 501;
      await new Promise((r) => setTimeout(r, 600));
      // Back to a time when the codes were live: only the sweep can have removed them.
      now -= 501;
      for (let i = 0; i < 100; i++) {
        expect(await store.countAttempt({ userId: `u${i}`, scenario: 'login' })).toEqual({
          state: 'missing',
        });
      }
      for (let i = 0; i < 30; i++) expect(await store.getDelivery(`v${i}`)).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
