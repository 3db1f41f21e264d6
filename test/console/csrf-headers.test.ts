import { consoleClient, formKeys, startConsoleGateway, type ConsoleGateway } from './harness';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

describe('console CSRF protection', () => {
  let c: ConsoleGateway;
  beforeAll(async () => {
    c = await startConsoleGateway();
  });
  afterAll(() => c.gw.stop());

  const loginEnabled = () => c.gw.app.admin.view().scenarios.find((p) => p.scenario === 'login')!.enabled;

  /** Switches the login scenario off as the settings page's switch does, with `csrf` as the token. */
  const switchOff = async (csrf: string | undefined, headers: Record<string, string> = {}) => {
    const page = await c.admin.get('/settings');
    const { version } = formKeys(page.body);
    const form: Record<string, string> = { version, 'scenarios.login.enabled': 'false' };
    if (csrf !== undefined) form.csrf = csrf;
    return c.admin.post('/settings', { form, headers });
  };

  it('refuses a POST without the CSRF token with 403, and the setting stays as it was', async () => {
    const version = c.gw.app.admin.view().version;
    const res = await switchOff(undefined);
    expect(res.status).toBe(403);
    expect(res.body).toContain('security token');
    expect(loginEnabled()).toBe(true);
    expect(c.gw.app.admin.view().version).toBe(version);
  });

  it('refuses a wrong token, and a token of another session', async () => {
    expect((await switchOff('A'.repeat(43))).status).toBe(403);
    const other = consoleClient(c.url);
    await other.signIn();
    const theirs = formKeys((await other.get('/settings')).body).csrf;
    expect((await switchOff(theirs)).status).toBe(403);
    expect(loginEnabled()).toBe(true);
  });

  it.each([
    ['an Origin of another site', { origin: 'http://evil.example' }],
    ['Origin null', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    // Another port of the same host (the sandbox inbox) is same-site, not same-origin.
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
  ])('refuses a POST with the right token but %s', async (_, headers) => {
    const csrf = formKeys((await c.admin.get('/settings')).body).csrf;
    const res = await switchOff(csrf, headers);
    expect(res.status).toBe(403);
    expect(loginEnabled()).toBe(true);
  });

  it('accepts the same POST with the right token from the console itself (the control)', async () => {
    const csrf = formKeys((await c.admin.get('/settings')).body).csrf;
    // What Chromium sends for the console's own form under Referrer-Policy: no-referrer.
    const res = await switchOff(csrf, { 'sec-fetch-site': 'same-origin', origin: 'null' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/settings?notice=saved');
    expect(loginEnabled()).toBe(false);
    const page = await c.admin.get('/settings');
    const { csrf: again, version } = formKeys(page.body);
    await c.admin.post('/settings', { form: { csrf: again, version, revert: 'scenarios.login.enabled' } });
    expect(loginEnabled()).toBe(true);
  });
});

describe('console response headers', () => {
  let c: ConsoleGateway;
  beforeAll(async () => {
    c = await startConsoleGateway();
  });
  afterAll(() => c.gw.stop());

  const PAGES = [
    '/',
    '/settings',
    '/settings/scenarios/two_factor',
    '/test/login',
    '/bindings',
    '/bindings?user=alice',
    '/bindings?user=nobody',
    '/no-such-page',
  ];
  const ASSETS = ['/assets/console.css', '/assets/console.js', '/assets/favicon.svg'];

  const expectHeaders = (headers: Record<string, unknown>) => {
    expect(headers['content-security-policy']).toBe(CSP);
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['cache-control']).toBe('no-store');
  };

  it.each(PAGES)('sends the CSP and the other headers with %s', async (path) => {
    const res = await c.admin.get(path);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expectHeaders(res.headers);
  });

  it.each(ASSETS)('sends them with the asset %s too, with its own type', async (path) => {
    const res = await consoleClient(c.url).get(path);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^(text\/css|text\/javascript|image\/svg\+xml)/);
    expectHeaders(res.headers);
  });

  it('sends them with the sign-in page, redirects and refusals', async () => {
    const anonymous = consoleClient(c.url);
    for (const res of [
      await anonymous.get('/login'),
      await anonymous.get('/'),
      await anonymous.post('/settings', { form: {} }),
      await anonymous.signIn('wrong-token-wrong-token'),
    ])
      expectHeaders(res.headers);
  });

  it('has no inline script or style in any page: the CSP would block it', async () => {
    for (const path of PAGES) {
      const { body } = await c.admin.get(path);
      expect(body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(body).not.toMatch(/<style/);
      expect(body).not.toMatch(/\sstyle=/);
      expect(body).not.toMatch(/\son[a-z]+=/);
      expect(body).not.toMatch(/(src|href)="(https?:)?\/\/(?!127\.0\.0\.1)/);
    }
  });

  it('answers 404 through the error mapping for an unknown page, and 400 for a body that is not a form', async () => {
    const res = await c.admin.get('/no-such-page');
    expect(res.status).toBe(404);
    expect(res.body).toContain('there is no page /no-such-page');
    const csrf = formKeys((await c.admin.get('/settings')).body).csrf;
    const json = await c.admin.post('/settings', {
      headers: { 'content-type': 'application/json' },
      form: { csrf },
    });
    expect(json.status).toBe(400);
  });
});
