import { isGatewayFailure } from '../../src/domain/errors';
import * as check from '../../src/domain/validation';

function failure(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isGatewayFailure(e)) return e.detail;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('validation', () => {
  it('accepts typical identity user ids', () => {
    for (const id of [
      '42',
      'alice',
      'alice@example.com',
      'u:tenant-1',
      '7b0e1a7e-3c5a-4d0b-9a3f-3e6d3c8f1b2a',
    ]) {
      expect(check.userId(id)).toBe(id);
    }
  });

  it.each([
    ['', 'is required'],
    ['a b', 'is 3 characters'],
    ['x'.repeat(129), 'is 129 characters'],
    ['名字', 'is 2 characters'],
  ])('rejects user id %j naming the field', (value, words) => {
    const d = failure(() => check.userId(value));
    expect(d).toMatchObject({ kind: 'invalid_argument', field: 'user_id' });
    expect(d.message).toContain(words);
  });

  it('normalizes mobiles and never echoes them', () => {
    expect(check.mobile('138 0000 0001')).toBe('13800000001');
    expect(check.mobile('+86-13800000001')).toBe('+86-13800000001');
    const d = failure(() => check.mobile('138-abc-0001'));
    expect(d).toMatchObject({ field: 'mobile' });
    expect(d.message).not.toContain('138');
  });

  it('checks codes by length and digits without echoing them', () => {
    expect(check.code('123456', 6)).toBe('123456');
    for (const bad of ['12345', '1234567', '12345a', '', '１２３４５６']) {
      const d = failure(() => check.code(bad, 6));
      expect(d).toMatchObject({ field: 'code', message: 'code: must be exactly 6 digits' });
    }
  });

  it('checks locales', () => {
    expect(check.locale('')).toBeUndefined();
    expect(check.locale('zh-Hans-CN')).toBe('zh-Hans-CN');
    expect(failure(() => check.locale('not a locale'))).toMatchObject({ field: 'locale' });
  });

  it('checks DingTalk and union ids', () => {
    expect(check.dingtalkUserId('manager4220')).toBe('manager4220');
    expect(failure(() => check.dingtalkUserId('a/b'))).toMatchObject({ field: 'dingtalk_user_id' });
    expect(failure(() => check.unionId(''))).toMatchObject({ field: 'union_id' });
  });
});

describe('client_ip and verification_id', () => {
  it('accepts IPv4 and IPv6 addresses, lower-cased, and nothing else', () => {
    expect(check.clientIp('')).toBe('');
    for (const ok of [
      '203.0.113.7',
      '0.0.0.0',
      '::1',
      '2001:DB8::8a2e:370:7334',
      '::ffff:192.0.2.1',
      'fe80::1',
    ])
      expect(check.clientIp(ok)).toBe(ok.toLowerCase());
    for (const bad of [
      '256.1.1.1',
      '1.2.3',
      'localhost',
      '1.2.3.4:80',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2:3:4:5:6:7:8',
      'g::1',
      ':::',
      '2001:db8::1::2',
      '12345::1',
      'x'.repeat(50),
    ]) {
      expect(() => check.clientIp(bad)).toThrow('client_ip: is not an IPv4 or IPv6 address');
    }
  });

  it('accepts only the id shape SendCode returns', () => {
    expect(check.verificationId('AAAAAAAAAAAAAAAAAAAAAA')).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(() => check.verificationId('')).toThrow('verification_id: is required');
    expect(() => check.verificationId('short')).toThrow('verification_id: is 5 characters');
    expect(() => check.verificationId('A'.repeat(21) + '!')).toThrow(/expected the 22-character id/);
  });
});
