import * as fc from 'fast-check';
import { status, type ServiceError } from '@grpc/grpc-js';
import { rpcError } from '../helpers/grpc-client';
import { startGateway, type TestGateway } from '../helpers/gateway';

/**
 * Thousands of random and hostile requests at every RPC: each must end in a
 * response or a deliberate status — never INTERNAL, never a crash — and the
 * server must stay healthy.
 */
let gw: TestGateway;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  gw = await startGateway({
    LOG_LEVEL: 'warn',
    CODE_RESEND_INTERVAL_SECONDS: '0',
    CODE_MAX_SENDS_PER_HOUR: '1000',
    CODE_MAX_SENDS_PER_IP_PER_HOUR: '1000',
    DELIVERY_CHECK_MS: '0',
  });
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await gw.stop();
});

const hostile = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.constantFrom(
    '',
    ' ',
    'alice',
    'demo-alice',
    '13800000001',
    '../../etc/passwd',
    '%00',
    'a\u0000b',
    "'; DROP TABLE x; --",
    '{code}',
    '\u202e',
    'x'.repeat(5000),
  ),
);
const enumValue = fc.oneof(fc.integer({ min: -5, max: 10 }), fc.constantFrom(2147483647, -2147483648));
const ALLOWED = new Set([
  status.INVALID_ARGUMENT,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.RESOURCE_EXHAUSTED,
]);

async function outcome(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    if (!ALLOWED.has(err.code)) throw new Error(`unexpected status ${status[err.code]}: ${err.details}`);
  }
}

const runs = { numRuns: 400 };

describe('hostile input', () => {
  it('SendCode', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostile,
        enumValue,
        hostile,
        hostile,
        hostile,
        fc.oneof(hostile, fc.ipV4(), fc.ipV6()),
        // Well-formed keys from a small set, so that keys meet other requests; and hostile ones.
        fc.oneof(fc.constant(''), hostile, fc.constantFrom('k-1', 'k-2', 'k-3'), fc.uuid()),
        async (userId, scenario, dingtalkUserId, mobile, locale, clientIp, idempotencyKey) => {
          await outcome(
            gw.verification.sendCode({
              userId,
              scenario,
              dingtalkUserId,
              mobile,
              locale,
              clientIp,
              idempotencyKey,
            }),
          );
        },
      ),
      runs,
    );
  });

  it('VerifyCode', async () => {
    await fc.assert(
      fc.asyncProperty(
        hostile,
        enumValue,
        fc.oneof(hostile, fc.stringMatching(/^\d{6}$/)),
        async (userId, scenario, code) => {
          await outcome(gw.verification.verifyCode({ userId, scenario, code }));
        },
      ),
      runs,
    );
  });

  it('GetDelivery', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(hostile, fc.stringMatching(/^[A-Za-z0-9_-]{22}$/)),
        async (verificationId) => {
          await outcome(gw.verification.getDelivery({ verificationId }));
        },
      ),
      runs,
    );
  });

  it('TestScenario and GetConfig', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, enumValue, hostile, async (userId, scenario, locale) => {
        await outcome(gw.verification.testScenario({ userId, scenario, locale }));
        await outcome(gw.verification.getConfig({}));
      }),
      { numRuns: 200 },
    );
  });

  it('BindingService', async () => {
    const target = fc.oneof(
      fc.constant(undefined),
      hostile.map((value) => ({ $case: 'dingtalkUserId' as const, value })),
      hostile.map((value) => ({ $case: 'mobile' as const, value })),
      hostile.map((value) => ({ $case: 'unionId' as const, value })),
      hostile.map((value) => ({ $case: 'authCode' as const, value })),
    );
    await fc.assert(
      fc.asyncProperty(hostile, target, async (userId, t) => {
        await outcome(gw.binding.bindUser({ userId, target: t }));
        await outcome(gw.binding.getBinding({ userId }));
        await outcome(gw.binding.unbindUser({ userId }));
      }),
      runs,
    );
  });

  it('StartDingTalkLogin and CompleteDingTalkLogin', async () => {
    const redirectUri = fc.oneof(hostile, fc.constant('http://127.0.0.1:8080/cb'));
    const state = fc.oneof(hostile, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/));
    await fc.assert(
      fc.asyncProperty(hostile, redirectUri, state, hostile, async (userId, uri, s, authCode) => {
        await outcome(gw.binding.startDingTalkLogin({ userId, redirectUri: uri }));
        await outcome(gw.binding.completeDingTalkLogin({ state: s, authCode }));
      }),
      runs,
    );
  });

  it('oversized messages are refused before decoding, and the server stays healthy', async () => {
    const err = await rpcError(
      gw.verification.verifyCode({ userId: 'u'.repeat(100_000), scenario: 1, code: '123456' }),
    );
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(unhandled).toEqual([]);
    await expect(gw.verification.getConfig({})).resolves.toMatchObject({ enabled: true });
  });
});
