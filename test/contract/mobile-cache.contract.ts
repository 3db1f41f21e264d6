import type { VerificationStore } from '../../src/verification/ports';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The mobile look-up cache (getbymobile's answers by a keyed hash of the number), registered
 * in the store contract for every backend: `a` and `b` are two store instances on the same
 * data (two replicas), so an answer one of them cached spares the other its look-up.
 */
export function describeMobileCacheContract(
  stores: () => { a: VerificationStore; b: VerificationStore },
): void {
  describe('mobile look-up cache', () => {
    it('answers what another instance cached, until its TTL passes', async () => {
      const { a, b } = stores();
      expect(await b.getMobileUser('m-hash-1')).toBeUndefined();
      await a.putMobileUser('m-hash-1', 'demo-alice', 300);
      expect(await b.getMobileUser('m-hash-1')).toBe('demo-alice');
      expect(await a.getMobileUser('m-hash-1')).toBe('demo-alice');
      await sleep(450);
      expect(await b.getMobileUser('m-hash-1')).toBeUndefined();
    });

    it("keeps '' for a number DingTalk knows no user by, apart from unknown keys", async () => {
      const { a, b } = stores();
      await a.putMobileUser('m-hash-2', '', 60_000);
      expect(await b.getMobileUser('m-hash-2')).toBe('');
      expect(await b.getMobileUser('m-hash-3')).toBeUndefined();
    });

    it('replaces an earlier answer and its TTL', async () => {
      const { a, b } = stores();
      await a.putMobileUser('m-hash-4', 'demo-bob', 60_000);
      await b.putMobileUser('m-hash-4', 'demo-carol', 60_000);
      expect(await a.getMobileUser('m-hash-4')).toBe('demo-carol');
      await a.putMobileUser('m-hash-4', 'demo-carol', 200);
      await sleep(350);
      expect(await b.getMobileUser('m-hash-4')).toBeUndefined();
    });
  });
}
