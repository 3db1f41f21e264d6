import { classifyDelivery } from '../../src/domain/delivery';
import type { SendResult } from '../../src/verification/ports';

const empty: SendResult = { read: [], unread: [], invalid: [], forbidden: [], failed: [], forbiddenList: [] };

describe('classifyDelivery', () => {
  it('read and unread are delivered', () => {
    expect(classifyDelivery({ ...empty, read: ['u'] }, 'u').status).toBe('delivered');
    expect(classifyDelivery({ ...empty, unread: ['u'] }, 'u').status).toBe('delivered');
  });

  it.each([
    [143105, 'daily limit'],
    [143205, 'daily limit'],
    [143106, 'same content'],
    [143206, 'same content'],
    [143103, 'flow control'],
    [143204, 'flow control'],
  ])('forbidden code %d is a silent drop (%s)', (code, words) => {
    const d = classifyDelivery(
      { ...empty, forbiddenList: [{ code, count: 1, userid: 'u' }], unread: [] },
      'u',
    );
    expect(d).toMatchObject({ status: 'dropped', code });
    expect(d.detail).toContain(words);
    expect(d.detail).toContain(String(code));
  });

  it('forbidden without a code means outside the visible range', () => {
    expect(classifyDelivery({ ...empty, forbidden: ['u'] }, 'u')).toMatchObject({
      status: 'dropped',
      code: 0,
    });
  });

  it('invalid and failed recipients are failures', () => {
    expect(classifyDelivery({ ...empty, invalid: ['u'] }, 'u').status).toBe('failed');
    expect(classifyDelivery({ ...empty, failed: ['u'] }, 'u').status).toBe('failed');
  });

  it('other users do not count; nothing listed is pending', () => {
    expect(
      classifyDelivery(
        { ...empty, read: ['v'], forbiddenList: [{ code: 143105, count: 1, userid: 'v' }] },
        'u',
      ).status,
    ).toBe('pending');
  });
});
