import { credentials } from '@grpc/grpc-js';
import { makePki } from '../helpers/certs';
import { startGateway } from '../helpers/gateway';
import { ADMIN_TOKEN, consoleClient, field, startConsoleGateway, type ConsoleGateway } from './harness';

const PAGES = [
  '/',
  '/settings',
  '/settings/scenarios/login',
  '/test/login',
  '/bindings',
  '/bindings?user=alice',
];
const POSTS = [
  '/settings',
  '/settings/scenarios/login',
  '/test/login',
  '/bindings',
  '/bindings/unbind',
  '/logout',
];

describe('console sign-in and sessions', () => {
  let c: ConsoleGateway;
  beforeAll(async () => {
    c = await startConsoleGateway();
  });
  afterAll(() => c.gw.stop());

  it.each(PAGES)('GET %s without a session redirects to the sign-in page and shows nothing', async (path) => {
    const anonymous = consoleClient(c.url);
    const res = await anonymous.get(path);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(path)}`);
    expect(res.body).toBe('');
    // A control: the same page with a session is the page.
    const signedIn = await c.admin.get(path);
    expect(signedIn.status).toBe(200);
  });

  it.each(POSTS)('POST %s without a session is 401 and changes nothing', async (path) => {
    const before = c.gw.app.admin.view();
    const res = await consoleClient(c.url).post(path, {
      form: { version: String(before.version), enabled: 'false', user_id: 'alice' },
    });
    expect(res.status).toBe(401);
    expect(res.body).not.toContain('sim-app-key');
    expect(res.body).not.toContain('name="csrf"');
    expect(c.gw.app.admin.view()).toEqual(before);
    expect((await c.gw.binding.getBinding({ userId: 'alice' })).binding?.dingtalkUserId).toBe('demo-alice');
  });

  it('refuses a wrong token with 401, saying so without echoing it', async () => {
    const client = consoleClient(c.url);
    const wrong = 'not-the-admin-token-but-long-enough';
    const res = await client.signIn(wrong);
    expect(res.status).toBe(401);
    expect(res.body).toContain('The admin token is wrong.');
    expect(res.body).not.toContain(wrong);
    expect(res.setCookies.some((l) => l.startsWith('dtg-session='))).toBe(false);
    expect((await client.get('/settings')).status).toBe(303);
  });

  it('issues an HttpOnly, SameSite=Strict session cookie, not Secure over plain HTTP, and a fresh one each time', async () => {
    const a = consoleClient(c.url);
    const res = await a.signIn();
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
    const line = res.setCookies.find((l) => l.startsWith('dtg-session='))!;
    const attrs = line.split(';').map((s) => s.trim());
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    expect(attrs).not.toContain('Secure');
    const id = a.cookies.get('dtg-session')!;
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    const b = consoleClient(c.url);
    await b.signIn();
    expect(b.cookies.get('dtg-session')).not.toBe(id);
    expect(c.gw.logText()).not.toContain(id);
    expect(c.gw.logText()).not.toContain(ADMIN_TOKEN);
  });

  it('goes back to the page asked for after signing in', async () => {
    const client = consoleClient(c.url);
    const login = await client.get('/login?next=%2Fbindings%3Fuser%3Dalice');
    const res = await client.post('/login', {
      form: {
        form_token: field(login.body, 'form_token'),
        next: field(login.body, 'next'),
        token: ADMIN_TOKEN,
      },
    });
    expect(res.headers.location).toBe('/bindings?user=alice');
    // Never to another site.
    const again = await client.get('/login');
    expect(again.status).toBe(303);
    const evil = consoleClient(c.url);
    const form = await evil.get('/login?next=//evil.example/x');
    expect(field(form.body, 'next')).toBe('/');
  });

  it('ends the session at sign-out: the old cookie opens nothing', async () => {
    const client = consoleClient(c.url);
    await client.signIn();
    const id = client.cookies.get('dtg-session')!;
    const page = await client.get('/');
    const out = await client.post('/logout', { form: { csrf: field(page.body, 'csrf') } });
    expect(out.status).toBe(303);
    expect(out.headers.location).toBe('/login?notice=signedout');
    const replay = consoleClient(c.url);
    replay.cookies.set('dtg-session', id);
    const res = await replay.get('/settings');
    expect(res.status).toBe(303);
    expect(res.headers.location).toContain('notice=expired');
  });

  it('refuses a sign-in form that did not come from this console', async () => {
    const client = consoleClient(c.url);
    await client.get('/login');
    const noFormToken = await client.post('/login', { form: { token: ADMIN_TOKEN, next: '/' } });
    expect(noFormToken.status).toBe(403);
    expect(noFormToken.setCookies.some((l) => l.startsWith('dtg-session='))).toBe(false);
    const login = await client.get('/login');
    const crossSite = await client.post('/login', {
      form: { form_token: field(login.body, 'form_token'), token: ADMIN_TOKEN, next: '/' },
      headers: { origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.setCookies.some((l) => l.startsWith('dtg-session='))).toBe(false);
  });
});

describe('console sign-in limit', () => {
  it('locks an address out after 5 failed sign-ins with 429 and retry-after, even for the right token', async () => {
    const c = await startConsoleGateway();
    try {
      const client = consoleClient(c.url);
      for (let i = 0; i < 5; i++) expect((await client.signIn('wrong-token-wrong-token')).status).toBe(401);
      const locked = await client.signIn(ADMIN_TOKEN);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(800);
      expect(locked.body).toContain('too many failed sign-ins');
      expect(locked.setCookies.some((l) => l.startsWith('dtg-session='))).toBe(false);
      // The window passes: the right token works again.
      c.gw.advance(15 * 60_000);
      expect((await client.signIn(ADMIN_TOKEN)).status).toBe(303);
    } finally {
      await c.gw.stop();
    }
  });
});

describe('console over TLS', () => {
  it('serves HTTPS with the gateway certificate and marks the session cookie Secure (__Host- prefixed)', async () => {
    const pki = makePki();
    const gw = await startGateway(
      { ADMIN_TOKEN, TLS_CERT_FILE: pki.files.serverCert, TLS_KEY_FILE: pki.files.serverKey },
      {},
      credentials.createSsl(pki.caCert),
    );
    try {
      expect(gw.app.consoleUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const client = consoleClient(gw.app.consoleUrl!, pki.caCert);
      const login = await client.get('/login');
      expect(login.setCookies[0]).toMatch(
        /^__Host-dtg-login=[^;]+; Path=\/; SameSite=Strict; HttpOnly; Secure/,
      );
      const res = await client.signIn();
      expect(res.status).toBe(303);
      const line = res.setCookies.find((l) => l.startsWith('__Host-dtg-session='))!;
      expect(line.split(';').map((s) => s.trim())).toEqual(
        expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Secure', 'Path=/']),
      );
      expect((await client.get('/settings')).status).toBe(200);
    } finally {
      await gw.stop();
    }
  });
});
