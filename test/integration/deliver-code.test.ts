import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { DeliveryStatus, RecipientSource } from '../../src/gen/dingtalk/gateway/v1/verification';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';

/** DeliverCode over gRPC: a code the caller made, delivered like SendCode's, stored nowhere. */
describe('DeliverCode', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      RECALL_POLL_MS: '50',
      CODE_RESEND_INTERVAL_SECONDS: '0',
      CODE_MAX_SENDS_PER_USER_PER_DAY: '0',
      CODE_MAX_SENDS_SINCE_SUCCESS: '0',
    });
  });
  afterAll(() => gw.stop());
  const sim = () => gw.app.simulator!;
  const deliver = (req: Parameters<TestGateway['verification']['deliverCode']>[0]) =>
    gw.verification.deliverCode({ scenario: Scenario.SCENARIO_TWO_FACTOR, ...req });

  it("sends the caller's code to a bound user in the scenario's template, and GetDelivery follows it", async () => {
    const before = sim().inbox.length;
    const started = Date.now();
    const out = await deliver({ userId: 'alice', code: '731904', ttlSeconds: 120, locale: 'en-US' });
    expect(out).toMatchObject({
      deliveryId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      dingtalkUserId: 'demo-alice',
      recipientSource: RecipientSource.RECIPIENT_SOURCE_BINDING,
      replayed: false,
    });
    expect(out.expiresAt!.getTime() - started).toBeGreaterThanOrEqual(119_000);
    expect(out.expiresAt!.getTime() - started).toBeLessThanOrEqual(121_000);
    const [message] = sim().inbox.slice(before);
    expect(message.text).toContain('**731904**');
    expect(message.text).toContain('valid for 2 minutes');
    expect(message.text).toContain(out.deliveryId.slice(0, 8));
    const delivery = await gw.verification.getDelivery({ verificationId: out.deliveryId });
    expect(delivery).toMatchObject({ taskId: out.taskId, userId: 'alice', dingtalkUserId: 'demo-alice' });
    expect(delivery.deliveryStatus).not.toBe(DeliveryStatus.DELIVERY_STATUS_UNSPECIFIED);
    // Nothing to verify: the gateway never had the code.
    const v = await gw.verification.verifyCode({
      userId: 'alice',
      scenario: Scenario.SCENARIO_TWO_FACTOR,
      code: '731904',
    });
    expect(v.verificationId).not.toBe(out.deliveryId);
  });

  it('finds a user by mobile, in any of the forms identity servers send, looking the number up once', async () => {
    const lookups = () => sim().calls.getbymobile ?? 0;
    const before = lookups();
    const forms = ['+8613800000003', '8613800000003', '13800000003', '+86 138 0000 0003'];
    for (const [i, mobile] of forms.entries()) {
      const out = await deliver({ mobile, code: `40000${i}` });
      expect([out.dingtalkUserId, out.recipientSource]).toEqual([
        'demo-carol',
        RecipientSource.RECIPIENT_SOURCE_MOBILE,
      ]);
    }
    expect(lookups() - before).toBe(1);
    // No user id named: nothing is bound.
    const err = await rpcError(gw.binding.getBinding({ userId: 'carol' }));
    expect(err.code).toBe(status.NOT_FOUND);
  });

  it("binds a named user found by mobile, and sends the caller's own text when it gives one", async () => {
    const before = sim().inbox.length;
    const out = await deliver({
      userId: 'kc-carol',
      mobile: '13800000003',
      code: '55AB31',
      text: 'Keycloak: 55AB31 is your code',
    });
    expect(out.recipientSource).toBe(RecipientSource.RECIPIENT_SOURCE_MOBILE);
    expect((await gw.binding.getBinding({ userId: 'kc-carol' })).binding?.dingtalkUserId).toBe('demo-carol');
    expect(sim().inbox[before].text).toContain('Keycloak: 55AB31 is your code');
  });

  it('sends once per idempotency key: a retry gets the first response; another request under it is refused', async () => {
    const before = sim().inbox.length;
    const req = { userId: 'bob', code: '918273', idempotencyKey: 'kc-3f2a9c' };
    const [a, b] = await Promise.all([deliver(req), deliver(req)]);
    const c = await deliver(req);
    expect(new Set([a.deliveryId, b.deliveryId, c.deliveryId]).size).toBe(1);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect(c.replayed).toBe(true);
    expect(sim().inbox.length - before).toBe(1);
    const other = await rpcError(deliver({ ...req, userId: 'alice' }));
    expect([other.code, other.details]).toEqual([
      status.INVALID_ARGUMENT,
      expect.stringContaining('idempotency_key'),
    ]);
  });

  it('recalls the message once the stated lifetime has passed', async () => {
    const out = await deliver({ userId: 'bob', code: '246810', ttlSeconds: 1 });
    const until = Date.now() + 5000;
    while (!sim().recalls.includes(out.taskId) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    expect(sim().recalls).toContain(out.taskId);
    const delivery = await gw.verification.getDelivery({ verificationId: out.deliveryId });
    expect(delivery.recalledAt).toBeDefined();
  });

  it.each([
    ['recipient', { code: '123456' }],
    ['code', { userId: 'alice', code: '12' }],
    ['ttl_seconds', { userId: 'alice', code: '123456', ttlSeconds: 86_401 }],
    ['mobile', { mobile: '+8601012345678', code: '123456' }],
    ['text', { userId: 'alice', code: '123456', text: 'x'.repeat(501) }],
    ['idempotency_key', { userId: 'alice', code: '123456', idempotencyKey: 'has space' }],
  ])('refuses a bad %s with INVALID_ARGUMENT naming it', async (field, req) => {
    const err = await rpcError(deliver(req));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(new RegExp(`^${field}: `));
    expect(err.details).not.toContain('123456');
  });

  it('refuses a mobile no DingTalk user has as FAILED_PRECONDITION', async () => {
    const err = await rpcError(deliver({ mobile: '13800000009', code: '123456' }));
    expect([err.code, err.details]).toEqual([
      status.FAILED_PRECONDITION,
      expect.stringContaining('no active DingTalk user'),
    ]);
  });
});
