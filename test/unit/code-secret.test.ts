import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { codeMatchesAny, digestCode, type CodeRecord } from '../../src/domain/code';
import { createLogger } from '../../src/logger';
import { createMemoryStore } from '../../src/store/memory';
import { createCodeSecret, type CodeSecret } from '../../src/verification/code-secret';
import type { VerificationStore } from '../../src/verification/ports';

const logger = createLogger(
  'silent',
  new Writable({
    write: (_c, _e, done) => done(),
  }),
);
let clock = 1_000_000;
const now = () => clock;
/** A code signed by `secret` now, as SendCode stores it. */
const issue = (secret: CodeSecret, id: string): CodeRecord => ({
  id,
  digest: digestCode(secret.current(), id, '123456'),
  recipient: 'dt',
  createdAt: clock,
  expiresAt: clock + 300_000,
  maxAttempts: 5,
});
const verifies = (secret: CodeSecret, record: CodeRecord) =>
  codeMatchesAny(secret.accepted(), record, '123456');

describe('the code secret', () => {
  let store: VerificationStore;
  const replica = (generation = 0) =>
    createCodeSecret(store, undefined, randomBytes, logger, { generation, now, graceMs: 30_000 });
  beforeEach(() => {
    store = createMemoryStore();
  });
  afterEach(() => store.close());

  it('with CODE_SECRET, signs with it and also accepts CODE_SECRET_PREVIOUS', async () => {
    const old = await createCodeSecret(store, Buffer.from('old-secret-0123456789'), randomBytes, logger);
    const code = issue(old, 'c1');
    const rotated = await createCodeSecret(store, Buffer.from('new-secret-0123456789'), randomBytes, logger, {
      previous: Buffer.from('old-secret-0123456789'),
    });
    expect(rotated.current().toString()).toBe('new-secret-0123456789');
    expect(verifies(rotated, code)).toBe(true);
    expect(
      verifies(
        await createCodeSecret(store, Buffer.from('new-secret-0123456789'), randomBytes, logger),
        code,
      ),
    ).toBe(false);
  });

  it('agrees on one key among replicas, and keeps the first key where older versions read it', async () => {
    const [a, b] = await Promise.all([replica(), replica()]);
    expect(a.current().equals(b.current())).toBe(true);
    expect(a.accepted()).toHaveLength(1);
    expect(await store.getOrCreateSecret('code-hmac', 'x')).toBe(a.current().toString('base64'));
  });

  it('rotates once per generation, however many replicas start with it, signing with the new key after the grace', async () => {
    const a = await replica();
    const before = issue(a, 'c0');
    const rotated = await Promise.all(Array.from({ length: 5 }, () => replica(1)));
    const [b] = rotated;
    for (const r of rotated) expect(r.accepted()).toEqual(b.accepted());
    expect(b.accepted()).toHaveLength(2);
    expect(verifies(b, before)).toBe(true);
    // During the grace new codes are signed with the old key, which every replica accepts.
    expect(b.current().equals(a.current())).toBe(true);
    clock += 30_000;
    expect(b.current().equals(a.current())).toBe(false);
    const after = issue(b, 'c1');
    expect(verifies(a, after)).toBe(false);
    await a.reconcile(); // its next store probe
    expect(verifies(a, after)).toBe(true);
    expect(a.accepted()).toEqual(b.accepted());
  });

  it('no longer accepts a key rotated out twice, and never rotates back for an older generation', async () => {
    const first = issue(await replica(), 'c0');
    const second = await replica(1);
    clock += 30_000;
    const middle = issue(second, 'c1');
    const third = await replica(2);
    expect(verifies(third, first)).toBe(false);
    expect(verifies(third, middle)).toBe(true);
    const stale = await replica(1);
    expect(stale.accepted()).toEqual(third.accepted());
    await second.reconcile();
    expect(second.accepted()).toEqual(third.accepted());
  });
});
