import { status } from '@grpc/grpc-js';
import {
  cancelled,
  disabled,
  invalidArgument,
  notBound,
  notFound,
  rateLimited,
  storeUnavailable,
  upstream,
  type UpstreamKind,
} from '../../src/domain/errors';
import { toStatus } from '../../src/grpc/status';

describe('toStatus', () => {
  it('maps our failures', () => {
    const bad = toStatus(invalidArgument('user_id', 'is required'));
    expect(bad).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'user_id: is required',
      unexpected: false,
    });
    expect(bad.metadata.get('field')).toEqual(['user_id']);
    expect(toStatus(notBound('carol'))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: 'user carol is not bound to a DingTalk account, so the code could not be sent',
    });
    expect(toStatus(disabled('scenario login is disabled')).code).toBe(status.FAILED_PRECONDITION);
    expect(toStatus(notFound('x')).code).toBe(status.NOT_FOUND);
    expect(toStatus(storeUnavailable('saveCode', new Error('ECONNREFUSED'))).code).toBe(status.UNAVAILABLE);
  });

  it('says when to retry after a limit', () => {
    const s = toStatus(rateLimited(42_100, 'cooldown'));
    expect(s.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(s.details).toBe('cooldown; retry in 43 s');
    expect(s.metadata.get('retry-after')).toEqual(['43']);
  });

  it.each<[UpstreamKind, status]>([
    ['busy', status.UNAVAILABLE],
    ['transport', status.UNAVAILABLE],
    ['bad_response', status.UNAVAILABLE],
    ['banned', status.UNAVAILABLE],
    ['token', status.UNAVAILABLE],
    ['rate_limit', status.RESOURCE_EXHAUSTED],
    ['quota', status.RESOURCE_EXHAUSTED],
    ['credentials', status.FAILED_PRECONDITION],
    ['permission', status.FAILED_PRECONDITION],
    ['ip_whitelist', status.FAILED_PRECONDITION],
    ['out_of_range', status.FAILED_PRECONDITION],
    ['recipient', status.FAILED_PRECONDITION],
    ['invalid_parameter', status.INTERNAL],
  ])('DingTalk %s → %s', (kind, code) => {
    const s = toStatus(
      upstream({ upstream: kind, errcode: 60011, endpoint: 'asyncsend_v2', retryable: false, message: 'm' }),
    );
    expect(s.code).toBe(code);
    expect(s.metadata.get('dingtalk-errcode')).toEqual(['60011']);
  });

  it('cancellation becomes CANCELLED, or DEADLINE_EXCEEDED past the deadline', () => {
    expect(toStatus(cancelled()).code).toBe(status.CANCELLED);
    expect(toStatus(cancelled(), true).code).toBe(status.DEADLINE_EXCEEDED);
  });

  it('hides anything unexpected behind a generic message', () => {
    const s = toStatus(new TypeError('cannot read x of undefined at /srv/app.js:1'));
    expect(s).toMatchObject({ code: status.INTERNAL, details: 'internal error', unexpected: true });
  });
});
