import { status } from '@grpc/grpc-js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';
import { playAnHour } from './activity';
import { CHROMIUM, hasChromium, launchBrowser, newContext, screenshot, watchProblems } from './browser';

const ADMIN_TOKEN = 'browser-test-admin-token-0123456789';
const CAROL_MOBILE = '13800000003';

const suite = hasChromium ? describe : describe.skip;
const TITLE = hasChromium
  ? 'admin console in a browser'
  : `admin console in a browser: SKIPPED, no browser at ${CHROMIUM} (apt-get install chromium fonts-noto-cjk)`;
if (!hasChromium) console.warn(TITLE);

/**
 * The administrator's page in a real browser (Debian's chromium through playwright-core),
 * against a sandbox gateway: every step as a person would click it, with the browser's
 * console watched for errors and Content-Security-Policy violations throughout.
 */
suite(TITLE, () => {
  let gw: TestGateway;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let url: string;

  beforeAll(async () => {
    gw = await startGateway({ ADMIN_TOKEN });
    url = gw.app.consoleUrl!;
    await playAnHour(gw);
    browser = await launchBrowser();
    context = await newContext(browser);
    problems = watchProblems(context);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  afterEach(() => {
    const seen = problems.splice(0);
    expect(seen).toEqual([]);
  });

  const heading = () => page.locator('main h1').first();
  const settingsVersion = () => gw.app.admin.view().version;

  it('signs in with the admin token (a wrong one is refused) and lands on the overview', async () => {
    await page.goto(url);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Admin token').fill('a-wrong-token-of-some-length');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectText(page.getByRole('alert'), 'The admin token is wrong.');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${url}/`);
    expect(await heading().textContent()).toBe('Overview');
    const loginRow = page.locator('table.grid tbody tr').first();
    expect(Number(await loginRow.locator('td').first().textContent())).toBeGreaterThan(50);
    expect(await page.locator('.chart svg rect').count()).toBeGreaterThan(50);
    await screenshot(page, 'overview', true);
  });

  it('switches the login scenario off (SendCode is refused) and on again', async () => {
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const login = page.getByRole('switch', { name: 'Login', exact: true });
    expect(await login.getAttribute('aria-checked')).toBe('true');
    await login.click();
    await page.waitForURL('**/settings?notice=saved');
    expect(await login.getAttribute('aria-checked')).toBe('false');
    const refused = await rpcError(
      gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN }),
    );
    expect(refused.code).toBe(status.FAILED_PRECONDITION);
    expect(refused.details).toContain('scenario login is disabled');

    await login.click();
    await page.waitForURL('**/settings?notice=saved');
    expect(await login.getAttribute('aria-checked')).toBe('true');
    const sent = await gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN });
    expect(sent.verificationId).not.toBe('');
    await screenshot(page, 'settings', true);
  });

  it('shows DingTalk\u2019s reason for a wrong AppSecret and saves nothing', async () => {
    const version = settingsVersion();
    const wrong = 'definitely-not-the-app-secret';
    await page.getByLabel('AppSecret').fill(wrong);
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${url}/settings`),
      page.locator('button[form="basic"]').click(),
    ]);
    expect(answer.status()).toBe(409);
    await expectText(page.getByRole('alert'), 'DingTalk refused the AppKey/AppSecret; nothing was saved.');
    await expectText(page.getByRole('alert'), 'invalidClientIdOrSecret');
    expect(await page.content()).not.toContain(wrong);
    expect(await page.getByLabel('AppSecret').inputValue()).toBe('');
    expect(settingsVersion()).toBe(version);
  });

  it('tests the login scenario for alice from the Operation column: delivered', async () => {
    await page.locator('#scenario-login').getByRole('link', { name: 'Test', exact: true }).click();
    await page.waitForURL('**/test/login');
    await page.getByLabel('User id').fill('alice');
    await page.locator('form.test button[type="submit"]').click();
    await expectText(page.locator('.result[data-status="delivered"]'), 'demo-alice');
  });

  it('tests carol: not bound; binds her by mobile right there, and the next test is delivered', async () => {
    await page.locator('form.test').getByLabel('User id').fill('carol');
    await page.locator('form.test button[type="submit"]').click();
    await expectText(page.getByRole('alert'), 'This user is not bound to a DingTalk account.');
    await screenshot(page, 'test-not-bound');

    const bind = page.locator('#bind-form');
    await bind.getByRole('radio', { name: 'Mobile number' }).check();
    await bind.getByRole('textbox', { name: 'Mobile number, userid or unionid' }).fill(CAROL_MOBILE);
    await bind.getByRole('button', { name: 'Bind' }).click();
    await page.waitForURL('**/test/login?user=carol&notice=bound');
    await expectText(page.getByRole('status'), 'User carol is now bound to DingTalk user demo-carol.');
    expect(await page.content()).not.toContain(CAROL_MOBILE);

    await page.locator('form.test button[type="submit"]').click();
    await expectText(page.locator('.result[data-status="delivered"]'), 'demo-carol');
  });

  it('looks carol up on the Bindings page', async () => {
    await page.getByRole('link', { name: 'Bindings', exact: true }).click();
    await page.locator('form.lookup').getByLabel('User id').fill('carol');
    await page.getByRole('button', { name: 'Look up' }).click();
    const found = page.locator('[data-binding="carol"]');
    await expectText(found, 'demo-carol');
    await expectText(found, 'Mobile number');
    await screenshot(page, 'bindings');
  });

  it('switches to Chinese and back to English', async () => {
    await page.getByRole('link', { name: '中文' }).click();
    await page.waitForURL('**/bindings?user=carol');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    expect(await heading().textContent()).toBe('账号绑定');
    await page.getByRole('link', { name: '设置', exact: true }).click();
    await expectText(page.locator('main'), '基础设置');
    await expectText(page.locator('main'), '使用场景');
    await screenshot(page, 'settings-zh', true);
    await page.getByRole('link', { name: 'English' }).click();
    await expectText(page.locator('main'), 'Basic settings');
    expect(await page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('opens the sandbox inbox from the console, with the messages rendered as DingTalk shows them', async () => {
    await page.getByRole('link', { name: 'Overview', exact: true }).click();
    const [inbox] = await Promise.all([
      context.waitForEvent('page'),
      page.locator('header nav a.external').click(),
    ]);
    await inbox.waitForLoadState();
    expect(inbox.url()).toBe(`${gw.app.simulator!.url}/`);
    await inbox.goto(`${gw.app.simulator!.url}/?user=demo-carol`);
    const newest = inbox.locator('article.msg').first();
    await expectText(newest.locator('h2.title'), '登录验证码');
    expect(await newest.locator('.body strong').count()).toBe(1);
    expect(await newest.locator('.body h3').count()).toBe(1);
    await screenshot(inbox, 'inbox');
    await inbox.close();
  });

  it('would notice a CSP violation (a control for the watch on every step)', async () => {
    await page.evaluate(
      "const s = document.createElement('script'); s.textContent = 'window.injected = true'; document.body.append(s);",
    );
    await page.waitForTimeout(200);
    const seen = problems.splice(0);
    expect(seen.join('\n')).toMatch(/CSP violation: script-src/);
    expect(await page.evaluate('window.injected')).toBeUndefined();
  });
});

/** Waits (up to 5 s) until the locator's text contains `text`. */
async function expectText(locator: ReturnType<Page['locator']>, text: string): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ timeout: 5000 });
}
