import { SCENARIOS } from '../../src/domain/scenario';
import {
  defaultTemplates,
  messageBytes,
  pickLocale,
  renderMessage,
  templateProblems,
} from '../../src/domain/template';

describe('default templates', () => {
  it.each(SCENARIOS)('%s has valid zh-CN and en-US templates', (s) => {
    const t = defaultTemplates(s);
    expect(Object.keys(t).sort()).toEqual(['en-US', 'zh-CN']);
    for (const template of Object.values(t)) expect(templateProblems(template)).toEqual([]);
  });
});

describe('templateProblems', () => {
  it('names every problem', () => {
    expect(templateProblems({ title: '', text: 'hi {name}' })).toEqual([
      'title is empty',
      'text lacks the {code} placeholder',
      'unknown placeholder {name}',
    ]);
    expect(templateProblems({ title: 'Code {code}', text: '{code}' })).toContain(
      'title must not contain {code} (it shows in previews)',
    );
  });
});

describe('pickLocale', () => {
  const available = ['zh-CN', 'en-US'];
  it('matches exactly, case-insensitively', () =>
    expect(pickLocale(available, 'EN-us', 'zh-CN')).toBe('en-US'));
  it('falls back by language', () => expect(pickLocale(available, 'en-GB', 'zh-CN')).toBe('en-US'));
  it('falls back to the default', () => expect(pickLocale(available, 'fr-FR', 'zh-CN')).toBe('zh-CN'));
  it('uses the default when none is asked', () =>
    expect(pickLocale(available, undefined, 'en-US')).toBe('en-US'));
});

describe('renderMessage', () => {
  const template = { title: 'Sign-in code', text: 'Code **{code}**, {minutes} min.' };

  it('fills placeholders and appends the reference', () => {
    const m = renderMessage({ template, locale: 'en-US', code: '123456', minutes: 5, ref: 'abcd1234' });
    expect(m.title).toBe('Sign-in code');
    expect(m.text).toBe('Code **123456**, 5 min.\n\n###### Ref abcd1234');
  });

  it('makes two messages with the same code differ (DingTalk drops repeated content)', () => {
    const a = renderMessage({ template, locale: 'en-US', code: '111111', minutes: 5, ref: 'r1' });
    const b = renderMessage({ template, locale: 'en-US', code: '111111', minutes: 5, ref: 'r2' });
    expect(a.text).not.toBe(b.text);
  });

  it('marks test messages in the title and body', () => {
    const zh = renderMessage({ template, locale: 'zh-CN', code: '1', minutes: 5, ref: 'r', test: true });
    expect(zh.title.startsWith('【测试】')).toBe(true);
    expect(zh.text).toContain('测试消息');
    const en = renderMessage({ template, locale: 'en-US', code: '1', minutes: 5, ref: 'r', test: true });
    expect(en.title.startsWith('[TEST]')).toBe(true);
    expect(en.text).toContain('cannot be used to verify');
  });

  it('measures the JSON size of the message in bytes', () => {
    expect(messageBytes({ title: '码', text: '' })).toBe(Buffer.byteLength('{"title":"码","text":""}'));
  });
});
