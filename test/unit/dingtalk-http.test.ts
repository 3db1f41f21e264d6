import { isGatewayFailure, type GatewayFailure } from '../../src/domain/errors';
import { parseJsonBody, toNumber, toText, type HttpReply } from '../../src/dingtalk/http';

const reply = (text: string, status = 200, contentType = 'application/json'): HttpReply => ({
  status,
  contentType,
  text,
});

const failureOf = (f: () => unknown): GatewayFailure['detail'] => {
  try {
    f();
  } catch (e) {
    if (isGatewayFailure(e)) return e.detail;
    throw e;
  }
  throw new Error('did not throw');
};

describe('parseJsonBody', () => {
  it('reads a JSON object whatever the status', () => {
    expect(parseJsonBody('x', reply('{"errcode":0,"task_id":1}'))).toEqual({ errcode: 0, task_id: 1 });
    expect(parseJsonBody('x', reply(' {"code":"invalidClientIdOrSecret"} ', 400))).toEqual({
      code: 'invalidClientIdOrSecret',
    });
  });

  it('turns an HTML page into banned, naming the endpoint and the status', () => {
    expect(
      failureOf(() => parseJsonBody('asyncsend_v2', reply('<html>denied</html>', 200, 'text/html'))),
    ).toMatchObject({
      kind: 'upstream',
      upstream: 'banned',
      endpoint: 'asyncsend_v2',
      retryable: false,
      message: expect.stringMatching(/asyncsend_v2.*HTML.*HTTP 200/),
    });
    expect(failureOf(() => parseJsonBody('x', reply('<!doctype html><p>hi', 403, '')))).toMatchObject({
      upstream: 'banned',
    });
  });

  it('turns status 1111 into banned', () => {
    expect(failureOf(() => parseJsonBody('x', reply('{"status":1111,"wait":5}')))).toMatchObject({
      upstream: 'banned',
    });
    expect(failureOf(() => parseJsonBody('x', reply('{"status":"1111"}')))).toMatchObject({
      upstream: 'banned',
    });
  });

  it.each([
    ['', 200, false],
    ['   ', 200, false],
    ['not json', 200, false],
    ['[1,2]', 200, false],
    ['null', 200, false],
    ['bad gateway', 502, true],
    ['<html>502 Bad Gateway</html>', 502, true],
  ])('%j with HTTP %d is bad_response (retryable %s)', (text, status, retryable) => {
    expect(failureOf(() => parseJsonBody('x', reply(text, status, 'text/plain')))).toMatchObject({
      upstream: 'bad_response',
      retryable,
      errcode: 0,
    });
  });
});

describe('lenient scalars', () => {
  it('accepts numbers sent as strings', () => {
    expect(toNumber(0)).toBe(0);
    expect(toNumber('0')).toBe(0);
    expect(toNumber(' -1 ')).toBe(-1);
    expect(toNumber('7200')).toBe(7200);
    expect(toNumber('1.5')).toBe(1.5);
    expect(toNumber('')).toBeUndefined();
    expect(toNumber('ok')).toBeUndefined();
    expect(toNumber(null)).toBeUndefined();
    expect(toNumber(Number.NaN)).toBeUndefined();
  });

  it('accepts ids sent as numbers', () => {
    expect(toText(256271667526)).toBe('256271667526');
    expect(toText('abc')).toBe('abc');
    expect(toText(undefined)).toBeUndefined();
    expect(toText({})).toBeUndefined();
  });
});
