import { status } from '@grpc/grpc-js';
import { BindingSource } from '../../src/gen/dingtalk/gateway/v1/binding';
import { rpcError } from '../helpers/grpc-client';
import { startGateway, type TestGateway } from '../helpers/gateway';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

describe('BindingService', () => {
  it('binds by DingTalk userid, mobile and union id', async () => {
    const a = await gw.binding.bindUser({
      userId: 'u1',
      target: { $case: 'dingtalkUserId', value: 'demo-bob' },
    });
    expect(a.binding).toMatchObject({
      userId: 'u1',
      dingtalkUserId: 'demo-bob',
      source: BindingSource.BINDING_SOURCE_DINGTALK_USER_ID,
    });
    const b = await gw.binding.bindUser({ userId: 'u2', target: { $case: 'mobile', value: '13800000002' } });
    expect(b.binding).toMatchObject({
      dingtalkUserId: 'demo-bob',
      source: BindingSource.BINDING_SOURCE_MOBILE,
    });
    const c = await gw.binding.bindUser({
      userId: 'u3',
      target: { $case: 'unionId', value: 'union-demo-alice' },
    });
    expect(c.binding).toMatchObject({
      dingtalkUserId: 'demo-alice',
      source: BindingSource.BINDING_SOURCE_UNION_ID,
    });
    expect((await gw.binding.getBinding({ userId: 'u3' })).binding!.boundAt).toBeInstanceOf(Date);
  });

  it('rebinding replaces the binding', async () => {
    await gw.binding.bindUser({ userId: 'u4', target: { $case: 'dingtalkUserId', value: 'demo-bob' } });
    await gw.binding.bindUser({ userId: 'u4', target: { $case: 'dingtalkUserId', value: 'demo-alice' } });
    expect((await gw.binding.getBinding({ userId: 'u4' })).binding!.dingtalkUserId).toBe('demo-alice');
  });

  it('refuses unknown and inactive DingTalk users with NOT_FOUND', async () => {
    for (const target of [
      { $case: 'dingtalkUserId' as const, value: 'ghost' },
      { $case: 'dingtalkUserId' as const, value: 'demo-former' },
      { $case: 'mobile' as const, value: '13900000000' },
      { $case: 'unionId' as const, value: 'union-nobody' },
    ]) {
      const err = await rpcError(gw.binding.bindUser({ userId: 'u5', target }));
      expect(err.code).toBe(status.NOT_FOUND);
      expect(err.details).not.toContain('13900000000');
    }
    expect((await rpcError(gw.binding.getBinding({ userId: 'u5' }))).code).toBe(status.NOT_FOUND);
  });

  it('requires a target and valid ids', async () => {
    const none = await rpcError(gw.binding.bindUser({ userId: 'u6', target: undefined }));
    expect(none.code).toBe(status.INVALID_ARGUMENT);
    expect(none.details).toContain('target: exactly one of dingtalk_user_id, mobile, union_id or auth_code');
    const bad = await rpcError(
      gw.binding.bindUser({ userId: '', target: { $case: 'dingtalkUserId', value: 'demo-bob' } }),
    );
    expect(bad.details.startsWith('user_id: ')).toBe(true);
    const badMobile = await rpcError(
      gw.binding.bindUser({ userId: 'u6', target: { $case: 'mobile', value: 'abc' } }),
    );
    expect(badMobile.details.startsWith('mobile: ')).toBe(true);
  });

  it('unbinds, reporting whether a binding existed', async () => {
    await gw.binding.bindUser({ userId: 'u7', target: { $case: 'dingtalkUserId', value: 'demo-bob' } });
    expect(await gw.binding.unbindUser({ userId: 'u7' })).toEqual({ removed: true });
    expect(await gw.binding.unbindUser({ userId: 'u7' })).toEqual({ removed: false });
    expect((await rpcError(gw.binding.getBinding({ userId: 'u7' }))).details).toBe(
      'user u7 is not bound to a DingTalk account',
    );
  });
});
