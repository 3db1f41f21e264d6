import { loginAs } from '../helpers/dingtalk-login';
import {
  consoleClient,
  field,
  formKeys,
  input,
  startConsoleGateway,
  unescape,
  type ConsoleGateway,
} from './harness';

const CAROL_MOBILE = '13800000003';

describe('console Test and Bindings pages', () => {
  let c: ConsoleGateway;
  beforeAll(async () => {
    c = await startConsoleGateway();
  });
  afterAll(() => c.gw.stop());

  const csrf = async (path = '/bindings') => field((await c.admin.get(path)).body, 'csrf');
  const test = async (scenario: string, userId: string) =>
    c.admin.post(`/test/${scenario}`, {
      form: { csrf: await csrf(`/test/${scenario}`), user_id: userId, locale: '' },
    });

  it('tests a scenario for a bound user: delivered, and the message is in the inbox', async () => {
    const before = c.gw.app.simulator!.inbox.length;
    const res = await test('login', 'alice');
    expect(res.status).toBe(200);
    expect(res.body).toContain('data-status="delivered"');
    expect(res.body).toContain('demo-alice');
    expect(c.gw.app.simulator!.inbox.length).toBe(before + 1);
  });

  it('answers 409 "not bound" for carol with a bind form; binding by mobile there makes the next test deliver', async () => {
    const res = await test('password_reset', 'carol');
    expect(res.status).toBe(409);
    expect(res.body).toContain('data-kind="not_bound"');
    expect(res.body).toContain('user carol is not bound to a DingTalk account');
    expect(input(res.body, 'then')?.value).toBe('/test/password_reset');
    expect(input(res.body, 'user_id')?.value).toBe('carol');

    const bound = await c.admin.post('/bindings', {
      form: {
        csrf: field(res.body, 'csrf'),
        user_id: 'carol',
        kind: 'mobile',
        value: CAROL_MOBILE,
        then: '/test/password_reset',
      },
    });
    expect(bound.status).toBe(303);
    expect(bound.headers.location).toBe('/test/password_reset?user=carol&notice=bound');
    const next = await c.admin.get(bound.headers.location!);
    expect(next.body).toContain('User carol is now bound to DingTalk user demo-carol.');
    expect(input(next.body, 'user_id')?.value).toBe('carol');

    const again = await test('password_reset', 'carol');
    expect(again.status).toBe(200);
    expect(again.body).toContain('data-status="delivered"');
    for (const page of [res.body, next.body, again.body]) expect(page).not.toContain(CAROL_MOBILE);
    expect(c.gw.logText()).not.toContain(CAROL_MOBILE);
  });

  it('offers a DingTalk login for a user who is not bound; completing it binds the account that signed in', async () => {
    const res = await test('login', 'gina');
    expect(res.status).toBe(409);
    const start = await c.admin.post('/bindings/dingtalk-login', {
      form: { csrf: field(res.body, 'csrf'), user_id: 'gina' },
    });
    expect(start.status).toBe(200);
    const authorizeUrl = unescape(/<a href="([^"]+)" class="authorize"/.exec(start.body)![1]);
    expect(authorizeUrl).toContain('/oauth2/auth?');
    expect(new URL(authorizeUrl).searchParams.get('redirect_uri')).toBe(`${c.admin.url}/dingtalk/callback`);

    // The user signs in with DingTalk on their own device: no console session there.
    const back = await loginAs(authorizeUrl, 'Carol');
    const done = await consoleClient(c.admin.url).get(back.location.pathname + back.location.search);
    expect(done.status).toBe(200);
    expect(done.body).toContain('data-status="bound"');
    expect(done.body).toContain('gina is now bound to DingTalk account demo-carol');
    expect(await c.gw.app.store.getBinding('gina')).toMatchObject({
      dingtalkUserId: 'demo-carol',
      source: 'dingtalk_login',
    });
    // The state is single-use: the same link back binds nothing.
    const again = await consoleClient(c.admin.url).get(back.location.pathname + back.location.search);
    expect(again.status).toBe(409);
    expect(again.body).toContain('start the login again');
  });

  it("shows DingTalk's reason when it drops the message (a user outside the app's range)", async () => {
    await c.gw.app.store.putBinding({
      userId: 'oscar',
      dingtalkUserId: 'demo-outsider',
      source: 'dingtalk_user_id',
      boundAt: Date.now(),
    });
    const res = await test('login', 'oscar');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/data-status="(dropped|failed)"/);
    expect(res.body).toContain('DingTalk&#39;s reason:');
  });

  it('refuses a test with 409 while the scenario is off, and says so before', async () => {
    const keys = formKeys((await c.admin.get('/settings')).body);
    await c.admin.post('/settings', { form: { ...keys, 'scenarios.risk_warning.enabled': 'false' } });
    const form = await c.admin.get('/test/risk_warning');
    expect(form.body).toContain('This scenario is switched off');
    const res = await test('risk_warning', 'alice');
    expect(res.status).toBe(409);
    expect(res.body).toContain('scenario risk_warning is disabled');
  });

  it('looks a user up, unbinds and binds again by DingTalk userid', async () => {
    const found = await c.admin.get('/bindings?user=bob');
    expect(found.status).toBe(200);
    expect(found.body).toContain('demo-bob');
    const unbind = await c.admin.post('/bindings/unbind', {
      form: { csrf: field(found.body, 'csrf'), user_id: 'bob' },
    });
    expect(unbind.headers.location).toBe('/bindings?user=bob&notice=unbound');
    const gone = await c.admin.get('/bindings?user=bob');
    expect(gone.status).toBe(404);
    expect(gone.body).toContain('user bob is not bound');
    expect(input(gone.body, 'user_id')?.value).toBe('bob');

    const bind = await c.admin.post('/bindings', {
      form: { csrf: field(gone.body, 'csrf'), user_id: 'bob', kind: 'dingtalk_user_id', value: 'demo-bob' },
    });
    expect(bind.headers.location).toBe('/bindings?user=bob&notice=bound');
    const shown = await c.admin.get(bind.headers.location!);
    expect(shown.body).toContain('User bob is now bound to DingTalk user demo-bob.');
    expect(shown.body).toContain('DingTalk userid');
  });

  it('says 404 when DingTalk has nobody with that mobile, and does not echo the number', async () => {
    const res = await c.admin.post('/bindings', {
      form: { csrf: await csrf(), user_id: 'dave', kind: 'mobile', value: '13900000009' },
    });
    expect(res.status).toBe(404);
    expect(res.body).toContain('no active DingTalk user has that mobile number');
    expect(res.body).not.toContain('13900000009');
  });

  it('refuses an unknown bind kind with 400', async () => {
    const res = await c.admin.post('/bindings', {
      form: { csrf: await csrf(), user_id: 'dave', kind: 'email', value: 'x@example.com' },
    });
    expect(res.status).toBe(400);
  });

  it('counts what was sent on the overview, with the chart', async () => {
    const res = await c.admin.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('<svg');
    expect(res.body).toContain('Sandbox');
    expect(res.body).toContain(`href="${c.gw.app.simulator!.url}/"`);
  });
});
