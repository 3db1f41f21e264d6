import { renderInboxPage } from '../../src/dingtalk/simulator-inbox-page';
import { markdownToHtml } from '../../src/dingtalk/simulator-markdown';
import { DEMO_USERS } from '../../src/dingtalk/simulator-users';
import { renderMessage, defaultTemplates } from '../../src/domain/template';

describe('work notification markdown, as DingTalk shows it', () => {
  it('renders the gateway own messages: heading, bold code, quote and the reference line', () => {
    const message = renderMessage({
      template: defaultTemplates('login')['en-US'],
      locale: 'en-US',
      code: '482913',
      minutes: 5,
      ref: 'AbCdEfGh',
      test: true,
    });
    const html = markdownToHtml(message.text);
    expect(html).toContain('<h3>Sign-in code</h3>');
    expect(html).toContain('<strong>482913</strong>');
    expect(html).toContain(
      '<blockquote>This is a test message; the code in it cannot be used to verify.</blockquote>',
    );
    expect(html).toContain('<h6>Ref AbCdEfGh</h6>');
    expect(html).not.toContain('**');
    expect(html).not.toContain('###');
  });

  it('escapes markup and keeps only http(s) links, so a message cannot inject anything', () => {
    const html = markdownToHtml(
      '<script>alert(1)</script> **<b>x</b>** [a](javascript:alert(1)) [b](https://example.com/?q=1&r=2) ![i](data:x)',
    );
    expect(html).not.toMatch(/<script|<b>|href="javascript|src="data/);
    expect(html).toContain('&lt;script&gt;');
    expect(html).toContain('<a href="https://example.com/?q=1&amp;r=2" rel="noopener noreferrer">b</a>');
    expect(html).toContain('[a](javascript:alert(1))');
  });

  it('renders lists, italics and line breaks', () => {
    expect(markdownToHtml('- one\n- *two*')).toBe('<ul><li>one</li><li><em>two</em></li></ul>');
    expect(markdownToHtml('1. a\n2. b')).toBe('<ol><li>a</li><li>b</li></ol>');
    expect(markdownToHtml('line one\nline two')).toBe('<p>line one<br>line two</p>');
  });
});

describe('the sandbox inbox page', () => {
  const at = Date.UTC(2026, 11, 1, 1, 2, 3);
  const messages = [
    {
      taskId: '1',
      userid: 'demo-alice',
      msgtype: 'markdown',
      title: '登录验证码',
      text: '您的验证码是 **111111**',
      at,
      recalled: false,
    },
    {
      taskId: '2',
      userid: 'demo-bob',
      msgtype: 'markdown',
      title: 'Sign-in code',
      text: 'code **222222**',
      at,
      recalled: true,
    },
  ];
  const page = (userid?: string) =>
    renderInboxPage(messages, { userid, users: DEMO_USERS, appName: 'Sandbox app' });

  it('shows each message with its title, rendered text and time in China time', () => {
    const html = page();
    expect(html).toContain('<h2 class="title">登录验证码</h2>');
    expect(html).toContain('<strong>111111</strong>');
    expect(html).toContain('2026/12/01 09:02:03');
    expect(html).toContain('to Alice (demo-alice)');
  });

  it('shows a recalled message as DingTalk does, without its content', () => {
    const html = page();
    expect(html).toContain('This message was recalled');
    expect(html).not.toContain('222222');
  });

  it('filters by recipient', () => {
    const html = page('demo-bob');
    expect(html).not.toContain('111111');
    expect(html).toContain('href="/?user=demo-bob" aria-current="page"');
  });
});
