import { isGatewayFailure } from '../../src/domain/errors';
import { mobileCacheKey, normaliseMobile } from '../../src/domain/mobile';

const refusal = (raw: string): string => {
  try {
    normaliseMobile(raw);
  } catch (e) {
    if (isGatewayFailure(e)) return e.message;
    throw e;
  }
  throw new Error(`${raw} was accepted`);
};

describe('normaliseMobile', () => {
  it.each([
    ['+8613800000001', '13800000001'],
    ['8613800000001', '13800000001'],
    ['008613800000001', '13800000001'],
    ['13800000001', '13800000001'],
    ['+86 138-0000-0001', '13800000001'],
    ['(+86) 138 0000 0001', '13800000001'],
    ['+86.138.0000.0001', '13800000001'],
    [' 19912345678 ', '19912345678'],
  ])('looks a mainland number %s up by its 11 digits', (raw, lookup) => {
    expect(normaliseMobile(raw)).toEqual({ lookup, countryCode: '86' });
  });

  it.each([
    ['+85251234567', '+852-51234567', '852'],
    ['85251234567', '+852-51234567', '852'],
    ['+886912345678', '+886-912345678', '886'],
    ['+14155552671', '+1-4155552671', '1'],
    ['+447911123456', '+44-7911123456', '44'],
    ['+79161234567', '+7-9161234567', '7'],
    ['+6591234567', '+65-91234567', '65'],
    ['0085251234567', '+852-51234567', '852'],
  ])("keeps another country's number %s in DingTalk's +cc- form", (raw, lookup, countryCode) => {
    expect(normaliseMobile(raw)).toEqual({ lookup, countryCode });
  });

  it('reads an 11-digit number starting 13-19 as mainland, so North America needs its +1', () => {
    expect(normaliseMobile('14155552671').lookup).toBe('14155552671');
    expect(normaliseMobile('+14155552671').lookup).toBe('+1-4155552671');
  });

  it.each([
    ['', 'is not a mobile number'],
    ['hello', 'is not a mobile number'],
    ['+86', 'is not a mobile number'],
    ['0138000000', 'is not a mobile number'],
    ['+8601012345678', 'is not a mainland China mobile number'],
    ['+861390000000', 'is not a mainland China mobile number'],
    ['+8612800000001', 'is not a mainland China mobile number'],
    ['+1234567890123456', 'is not a mobile number'],
    ['+852123', 'is not a mobile number'],
  ])('refuses %j, naming the field and never echoing the value', (raw, why) => {
    const message = refusal(raw);
    expect(message).toContain(`mobile: ${why}`);
    if (raw.length > 3) expect(message).not.toContain(raw.trim());
  });

  it('names the cache entry by a keyed hash: stable per number and key, never the number', () => {
    const key = Buffer.from('k'.repeat(32));
    const a = mobileCacheKey(key, normaliseMobile('+8613800000001'));
    expect(mobileCacheKey(key, normaliseMobile('13800000001'))).toBe(a);
    expect(mobileCacheKey(Buffer.from('j'.repeat(32)), normaliseMobile('13800000001'))).not.toBe(a);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toContain('13800000001');
  });
});
