import type { UpstreamKind } from '../../src/domain/errors';
import {
  classifyApiError,
  classifyErrcode,
  describeApiError,
  describeErrcode,
} from '../../src/dingtalk/errcodes';

describe('classifyErrcode', () => {
  it.each<[number, UpstreamKind, boolean]>([
    [-1, 'busy', true],
    [40001, 'token', false],
    [40014, 'token', false],
    [42001, 'token', false],
    [40035, 'invalid_parameter', false],
    [400002, 'invalid_parameter', false],
    [40089, 'credentials', false],
    [40096, 'credentials', false],
    [60011, 'permission', false],
    [60020, 'ip_whitelist', false],
    [50002, 'out_of_range', false],
    [60121, 'recipient', false],
    [33012, 'recipient', false],
    [40104, 'recipient', false],
    [90002, 'rate_limit', true],
    [90018, 'rate_limit', true],
    [90020, 'quota', false],
    [45009, 'banned', false],
    [90001, 'banned', false],
    [12345, 'unknown', false],
  ])('%d is %s (retryable: %s)', (errcode, kind, retryable) => {
    expect(classifyErrcode(errcode)).toMatchObject({ errcode, kind, retryable });
  });

  it('asks for at least a second before retrying the per-app limit, nothing for the global one', () => {
    expect(classifyErrcode(90018).minDelayMs).toBeGreaterThanOrEqual(1000);
    expect(classifyErrcode(90002).minDelayMs).toBe(0);
    expect(classifyErrcode(-1).minDelayMs).toBe(0);
  });

  it('unwraps errcode 88 through its sub_code', () => {
    expect(classifyErrcode(88, 40014)).toMatchObject({ errcode: 40014, kind: 'token' });
    expect(classifyErrcode(88, 60011)).toMatchObject({ errcode: 60011, kind: 'permission' });
    expect(classifyErrcode(88)).toMatchObject({ errcode: 88, kind: 'unknown' });
    expect(classifyErrcode(88, 0)).toMatchObject({ errcode: 88, kind: 'unknown' });
  });

  it('tells the operator what to fix', () => {
    expect(classifyErrcode(60011).hint).toMatch(/address-book read permission/);
    expect(classifyErrcode(60020).hint).toMatch(/add the server IP to the app's whitelist/);
    expect(classifyErrcode(50002).hint).toMatch(/widen the app's visible range/);
    expect(classifyErrcode(40096).hint).toMatch(/AppKey\/AppSecret/);
  });
});

describe('classifyApiError', () => {
  it.each<[number, string, UpstreamKind, number, boolean]>([
    [400, 'invalidClientIdOrSecret', 'credentials', 0, false],
    [401, 'InvalidAuthentication', 'token', 40014, false],
    [403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', 'rate_limit', 90018, true],
    [403, 'Forbidden.AccessDenied.QpsLimitForApi', 'rate_limit', 90002, true],
    [403, 'Forbidden.AccessDenied.IpNotInWhiteList', 'ip_whitelist', 60020, false],
    [403, 'Forbidden.AccessDenied.AccessTokenPermissionDenied', 'permission', 60011, false],
    [403, 'Forbidden.AccessDenied.SomethingNew', 'permission', 0, false],
    [429, 'Throttling', 'rate_limit', 0, true],
    [503, 'ServiceUnavailable', 'busy', 0, true],
    [400, 'MissingappKey', 'invalid_parameter', 0, false],
    [404, 'NotFound', 'unknown', 0, false],
  ])('HTTP %d %s is %s (errcode %d, retryable %s)', (status, code, kind, errcode, retryable) => {
    expect(classifyApiError(status, code)).toMatchObject({ kind, errcode, retryable });
  });
});

describe('descriptions', () => {
  it('name the code, the class and the hint', () => {
    expect(describeErrcode(60020)).toBe(`errcode 60020 (ip_whitelist): ${classifyErrcode(60020).hint}`);
    expect(describeErrcode(88, 60011)).toMatch(
      /^errcode 88\/sub_code 60011 \(permission\): .*grant the app the address-book read permission/,
    );
    expect(describeApiError(400, 'invalidClientIdOrSecret')).toMatch(
      /^HTTP 400 invalidClientIdOrSecret \(credentials\)/,
    );
  });
});
