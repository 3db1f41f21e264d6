import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (apt-get install chromium fonts-noto-cjk); the suite is skipped without it. */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Off everything that would reach the network or make a run differ from the last. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--font-render-hinting=none',
  '--hide-scrollbars',
];

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });

/** A fixed window and language, so screenshots come out the same from run to run. */
export const VIEWPORT = { width: 1280, height: 800 };

export const newContext = (browser: Browser, locale = 'en-US'): Promise<BrowserContext> =>
  browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale, timezoneId: 'UTC' });

/**
 * Everything a page reports that a user would call broken: console errors (a refused
 * script or style is logged there), uncaught exceptions, and every Content-Security-Policy
 * violation, caught by a listener added before any page script runs. A page answered with
 * an error status on purpose (401 for a wrong token, 409 for a refused change) is logged by
 * Chromium as a failed load too; that is the tests' to check, so only failed loads of
 * anything but a page (a script, a style, an image) count here.
 */
export function watchProblems(context: BrowserContext): string[] {
  const problems: string[] = [];
  const documents = new Set<string>();
  const watch = (page: Page) => {
    page.on('request', (r) => {
      if (r.isNavigationRequest()) documents.add(r.url());
    });
    page.on('console', (m) => {
      const failed = m.text().startsWith('Failed to load resource');
      // The sandbox inbox (the simulator's page) has no icon: Chromium's own /favicon.ico request fails.
      const failedPage =
        failed && (documents.has(m.location().url) || m.location().url.endsWith('/favicon.ico'));
      if ((m.type() === 'error' && !failedPage) || m.text().startsWith('CSP violation'))
        problems.push(`${m.location().url || page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
    page.setDefaultTimeout(5000);
  };
  // A string: this runs in the page, whose DOM types this Node project does not load.
  void context.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

/** Set UPDATE_SCREENSHOTS=1 to rewrite docs/images/; otherwise nothing is written. */
export const updateScreenshots = process.env.UPDATE_SCREENSHOTS === '1';
const IMAGES = join(__dirname, '..', '..', 'docs', 'images');

/** Saves a PNG of the page as docs/images/<name>.png, when asked to. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  if (!updateScreenshots) return;
  mkdirSync(IMAGES, { recursive: true });
  // Nothing blinks: the caret and transitions would make two runs differ.
  await page.screenshot({
    path: join(IMAGES, `${name}.png`),
    fullPage,
    caret: 'hide',
    animations: 'disabled',
  });
}
