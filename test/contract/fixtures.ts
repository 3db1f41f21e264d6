import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { isGatewayFailure } from '../../src/domain/errors';
import { PENDING, type DeliveryRecord } from '../../src/domain/delivery';
import { createRedisStore } from '../../src/store/redis';
import type { Subject, VerificationStore } from '../../src/verification/ports';
import type { StoreFixture } from './store.contract';

const subject: Subject = { userId: 'u-1', scenario: 'login' };
const record = { id: 'c2', digest: 'ab', recipient: 'dt-1', createdAt: 1, expiresAt: 2, maxAttempts: 5 };

/** A key prefix of a test's own on a shared Redis, so tests never see each other's keys. */
export const freshPrefix = () => `t-${randomBytes(4).toString('hex')}:`;

/** The contract's fixture on Redis at `url`, whatever its topology: a store and a peer replica under one fresh prefix. */
export async function redisFixture(url: string): Promise<StoreFixture> {
  const keyPrefix = freshPrefix();
  const [store, peer] = await Promise.all([
    createRedisStore(url, { keyPrefix }),
    createRedisStore(url, { keyPrefix }),
  ]);
  return {
    store,
    peer,
    reopen: () => createRedisStore(url, { keyPrefix }),
    cleanup: async () => void (await Promise.all([store.close(), peer.close()])),
  };
}

/** A pending delivery record, as SendCode leaves one. */
export const pendingDelivery: DeliveryRecord = {
  verificationId: 'v-1',
  taskId: '1',
  userId: 'u-1',
  scenario: 'login',
  dingtalkUserId: 'dt-1',
  sentAt: 1,
  checkedAt: 1,
  ...PENDING,
};

/** Every store operation, by name, for the outage tests of the shared backends. */
export const operationsOf = (store: VerificationStore): Array<[string, () => Promise<unknown>]> => [
  ['ping', () => store.ping()],
  [
    'reserveSend',
    () => store.reserveSend(subject, { cooldownMs: 0, windowMs: 60_000, maxInWindow: 100 }, Date.now()),
  ],
  ['releaseSend', () => store.releaseSend(subject, 1)],
  [
    'reserveSends',
    () =>
      store.reserveSends(
        [
          { subject, rule: { cooldownMs: 0, windowMs: 60_000, maxInWindow: 100 } },
          {
            subject: { userId: 'u-1', scenario: 'user_day' },
            rule: { cooldownMs: 0, windowMs: 60_000, maxInWindow: 100 },
          },
        ],
        Date.now(),
      ),
  ],
  ['clearSends', () => store.clearSends({ userId: 'u-1', scenario: 'since_success' })],
  ['claimIdempotency', () => store.claimIdempotency('k', { digest: 'd', token: 't' }, 60_000)],
  ['getIdempotency', () => store.getIdempotency('k')],
  ['completeIdempotency', () => store.completeIdempotency('k', { digest: 'd', token: 't' }, '{}', 60_000)],
  ['releaseIdempotency', () => store.releaseIdempotency('k', 't')],
  ['saveCode', () => store.saveCode(subject, record, 60_000)],
  ['countAttempt', () => store.countAttempt(subject)],
  [
    'countAttempt with failures',
    () =>
      store.countAttempt(subject, {
        now: Date.now(),
        rule: { maxFailures: 20, windowMs: 60_000, lockoutMs: 1000, maxLockoutMs: 1000 },
      }),
  ],
  ['lockedUntil', () => store.lockedUntil(subject, Date.now())],
  ['consumeCode', () => store.consumeCode(subject, 'c2')],
  ['discardCode', () => store.discardCode(subject, 'c2')],
  ['takeSlot', () => store.takeSlot('dingtalk:x', 10, Date.now(), 1000)],
  [
    'putBinding',
    () => store.putBinding({ userId: 'u-1', dingtalkUserId: 'dt-1', source: 'mobile', boundAt: 1 }),
  ],
  ['getBinding', () => store.getBinding('u-1')],
  ['deleteBinding', () => store.deleteBinding('u-1')],
  ['putDelivery', () => store.putDelivery(pendingDelivery, 60_000)],
  ['getDelivery', () => store.getDelivery('v-1')],
  ['getOrCreateSecret', () => store.getOrCreateSecret('hmac', 'x')],
  ['replaceSecret', () => store.replaceSecret('hmac', 'x', 'x')],
  [
    'putLoginState',
    () =>
      store.putLoginState(
        'k',
        { userId: 'u-1', redirectUri: 'https://x/cb', createdAt: 1, expiresAt: 2 },
        60_000,
      ),
  ],
  ['takeLoginState', () => store.takeLoginState('k')],
  ['putMobileUser', () => store.putMobileUser('m-hash', 'dt-1', 60_000)],
  ['getMobileUser', () => store.getMobileUser('m-hash')],
];

/**
 * Runs `op` against an unreachable store, expecting store_unavailable with the
 * password nowhere in it; returns how long the rejection took.
 */
export async function expectUnavailable(
  name: string,
  op: () => Promise<unknown>,
  password: string,
): Promise<number> {
  const started = Date.now();
  const err = await op().then(
    () => new Error(`${name} succeeded with the store unreachable`),
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  expect({ name, kind: isGatewayFailure(err) ? err.detail.kind : inspect(err) }).toEqual({
    name,
    kind: 'store_unavailable',
  });
  if (password) expect(inspect(err, { depth: 5 })).not.toContain(password);
  return elapsed;
}
