import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { DeliveryStatus, type GetDeliveryResponse } from '../../src/gen/dingtalk/gateway/v1/verification';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';

/**
 * DingTalk answers errcode 0 to sends it then drops. After each SendCode the gateway
 * reads the send result in the background; GetDelivery reports it, and reads a pending
 * record again on request.
 */
let n = 0;
const send = (gw: TestGateway, dingtalkUserId: string) =>
  gw.verification.sendCode({ userId: `d-${++n}`, scenario: Scenario.SCENARIO_TWO_FACTOR, dingtalkUserId });

/** Asks GetDelivery until the status is no longer pending (bounded). */
async function settled(gw: TestGateway, verificationId: string): Promise<GetDeliveryResponse> {
  for (let i = 0; i < 100; i++) {
    const d = await gw.verification.getDelivery({ verificationId });
    if (d.deliveryStatus !== DeliveryStatus.DELIVERY_STATUS_PENDING) return d;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`delivery of ${verificationId} stayed pending`);
}

describe('delivery follow-up in the background', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ DELIVERY_FOLLOW_UP_MS: '50' });
  });
  afterAll(() => gw.stop());

  it('records a delivered code, with what it was sent for and when', async () => {
    const sent = await send(gw, 'demo-bob');
    const d = await settled(gw, sent.verificationId);
    expect(d).toMatchObject({
      verificationId: sent.verificationId,
      taskId: sent.taskId,
      userId: `d-${n}`,
      scenario: Scenario.SCENARIO_TWO_FACTOR,
      dingtalkUserId: 'demo-bob',
      deliveryStatus: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
      dingtalkCode: 0,
    });
    expect(d.checkedAt!.getTime()).toBeGreaterThanOrEqual(d.sentAt!.getTime());
    const audit = gw.logs.find(
      (l) => l.audit === 'code.delivery' && l.verificationId === sent.verificationId,
    );
    expect(audit).toMatchObject({ delivery: 'delivered', scenario: 'two_factor' });
  });

  it('says so when DingTalk accepted the send and dropped it (outside the visible range)', async () => {
    const sent = await send(gw, 'demo-outsider');
    const d = await settled(gw, sent.verificationId);
    expect(d.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_DROPPED);
    expect(d.detail).toMatch(/visible range/);
  });

  it('answers NOT_FOUND for an unknown id and INVALID_ARGUMENT for a malformed one', async () => {
    const missing = await rpcError(gw.verification.getDelivery({ verificationId: 'A'.repeat(22) }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toMatch(/no delivery record for verification A{22}/);
    const bad = await rpcError(gw.verification.getDelivery({ verificationId: 'x' }));
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.metadata.get('field')).toEqual(['verification_id']);
  });
});

describe('delivery read on request', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // No background read: only GetDelivery asks DingTalk.
    gw = await startGateway({ DELIVERY_FOLLOW_UP_MS: '0' });
  });
  afterAll(() => gw.stop());

  it('stays pending until asked again a second later, then reads DingTalk', async () => {
    const sent = await send(gw, 'demo-alice');
    const first = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(first.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_PENDING);
    const calls = gw.app.simulator!.calls.getsendresult ?? 0;
    gw.advance(1000);
    const second = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(second.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_DELIVERED);
    expect((gw.app.simulator!.calls.getsendresult ?? 0) - calls).toBe(1);
    // Settled records are answered from the store.
    await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect((gw.app.simulator!.calls.getsendresult ?? 0) - calls).toBe(1);
  });

  it('keeps the record pending, saying why, when the send result cannot be read', async () => {
    const sent = await send(gw, 'demo-alice');
    gw.advance(1000);
    gw.app.simulator!.inject('getsendresult', { type: 'errcode', errcode: 60011 });
    const d = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(d.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_PENDING);
    expect(d.detail).toMatch(/^sent, but the send result could not be read: .*permission/i);
  });
});
