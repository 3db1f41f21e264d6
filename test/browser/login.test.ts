import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { BindingSource } from '../../src/gen/dingtalk/gateway/v1/binding';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { CHROMIUM, hasChromium, launchBrowser, newContext, screenshot, watchProblems } from './browser';

const suite = hasChromium ? describe : describe.skip;
const TITLE = hasChromium
  ? 'sandbox DingTalk login in a browser'
  : `sandbox DingTalk login in a browser: SKIPPED, no browser at ${CHROMIUM} (apt-get install chromium fonts-noto-cjk)`;
if (!hasChromium) console.warn(TITLE);

/**
 * The sandbox's DingTalk login page walked once by a real browser (Debian's chromium through
 * playwright-core): open the authorize URL StartDingTalkLogin returned, click carol, land on
 * the identity server's callback (a loopback server here, capturing the query), complete.
 */
suite(TITLE, () => {
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let callback: http.Server;
  let callbackUrl: string;
  const arrived: URL[] = [];

  beforeAll(async () => {
    callback = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', callbackUrl);
      if (url.pathname !== '/dingtalk/callback') {
        res.writeHead(204).end();
        return;
      }
      arrived.push(url);
      res.writeHead(200, { 'content-type': 'text/html;charset=utf-8' });
      res.end(
        '<!doctype html><html lang="en"><head><title>Identity server</title></head><body><p>Signed in</p></body></html>',
      );
    });
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/dingtalk/callback`;
    gw = await startGateway({ DINGTALK_LOGIN_REDIRECT_URIS: callbackUrl });
    browser = await launchBrowser();
    context = await newContext(browser);
    problems = watchProblems(context);
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await new Promise((resolve) => callback?.close(resolve));
  });

  it('logs in as carol on the sandbox login page and binds her', async () => {
    const started = await gw.binding.startDingTalkLogin({ userId: 'carol', redirectUri: callbackUrl });
    await page.goto(started.authorizeUrl);
    expect(await page.title()).toBe('钉钉登录 · Log in with DingTalk · DingTalk Gateway Sandbox');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain(
      'DingTalk Gateway Sandbox',
    );
    for (const name of ['Alice', 'Bob', 'Carol', 'Dave (another organisation)', 'Erin (external contact)'])
      expect(
        await page.getByRole('button', { name: new RegExp(`^${name.replace(/[()]/g, '\\$&')}`) }).count(),
      ).toBe(1);
    await screenshot(page, 'sandbox-login');

    await page.getByRole('button', { name: /^Carol/ }).click();
    await page.waitForURL((u) => u.pathname === '/dingtalk/callback');
    expect(await page.textContent('body')).toContain('Signed in');
    expect(arrived).toHaveLength(1);
    const query = arrived[0].searchParams;
    expect(query.get('state')).toBe(started.state);

    const { binding } = await gw.binding.completeDingTalkLogin({
      state: query.get('state')!,
      authCode: query.get('authCode')!,
    });
    expect(binding).toMatchObject({
      userId: 'carol',
      dingtalkUserId: 'demo-carol',
      source: BindingSource.BINDING_SOURCE_DINGTALK_LOGIN,
    });
    expect(problems).toEqual([]);
  });
});
