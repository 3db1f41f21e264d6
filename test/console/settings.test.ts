import { status } from '@grpc/grpc-js';
import { rpcError } from '../helpers/grpc-client';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import {
  consoleClient,
  formKeys,
  input,
  startConsoleGateway,
  tags,
  unescape,
  type ConsoleGateway,
} from './harness';

const ALL_PAGES = [
  '/',
  '/settings',
  '/settings/scenarios/login',
  '/settings/scenarios/risk_warning',
  '/test/login',
  '/bindings',
  '/bindings?user=alice',
];

describe('console settings page', () => {
  let c: ConsoleGateway;
  beforeAll(async () => {
    c = await startConsoleGateway();
  });
  afterAll(() => c.gw.stop());

  const view = () => c.gw.app.admin.view();
  const login = () => view().scenarios.find((p) => p.scenario === 'login')!;
  const settingsForm = async () => formKeys((await c.admin.get('/settings')).body);

  it('shows the switch, the app credentials, each source, and the scenario table with a Test operation', async () => {
    const { body } = await c.admin.get('/settings');
    expect(body).toContain('role="switch"');
    expect(body).toContain('value="sim-app-key"');
    expect(body).toContain(`value="${c.gw.app.simulator!.agentId}"`);
    expect(body).toContain('>Set</span>');
    for (const s of ['login', 'password_recovery', 'two_factor', 'password_reset', 'risk_warning'])
      expect(body).toContain(`href="/test/${s}"`);
    expect(body).toContain('src-default');
  });

  it('never shows the AppSecret, on any page, nor its field', async () => {
    const secret = c.gw.app.simulator!.appSecret;
    for (const path of ALL_PAGES) {
      const { body } = await c.admin.get(path);
      expect(body).not.toContain(secret);
    }
    const { body } = await c.admin.get('/settings');
    expect(input(body, 'app_secret')).toMatchObject({ type: 'password', autocomplete: 'new-password' });
    expect(input(body, 'app_secret')).not.toHaveProperty('value');
  });

  it('saves a policy change, marks it runtime with a revert button, and reverts it', async () => {
    const keys = await settingsForm();
    const res = await c.admin.post('/settings', {
      form: {
        ...keys,
        'scenarios.login.code_length': '8',
        'scenarios.login.ttl_seconds': String(login().ttlSeconds),
      },
    });
    expect(res.status).toBe(303);
    expect(login().codeLength).toBe(8);
    // The untouched field stays where it came from.
    expect(view().sources['scenarios.login.ttl_seconds']).toBe('default');
    expect(view().sources['scenarios.login.code_length']).toBe('runtime');
    const page = await c.admin.get('/settings?notice=saved');
    expect(page.body).toContain('Saved.');
    expect(tags(page.body, 'input')).toContainEqual({
      type: 'hidden',
      name: 'revert',
      value: 'scenarios.login.code_length',
    });
    const revert = await c.admin.post('/settings', {
      form: { ...formKeys(page.body), revert: 'scenarios.login.code_length' },
    });
    expect(revert.status).toBe(303);
    expect(login().codeLength).toBe(6);
    expect(view().sources['scenarios.login.code_length']).toBe('default');
  });

  it('re-renders a stale form with 409, the conflict message and the values now in force', async () => {
    const stale = await settingsForm();
    // Someone else changes the settings in between (through the service, as UpdateConfig does).
    await c.gw.app.admin.update(
      { values: { 'scenarios.two_factor.max_attempts': 3 }, revert: [] },
      Number(stale.version),
      'admin-token',
    );
    const res = await c.admin.post('/settings', { form: { ...stale, 'scenarios.login.max_attempts': '9' } });
    expect(res.status).toBe(409);
    expect(res.body).toContain('Someone else changed the settings');
    expect(input(res.body, 'scenarios.two_factor.max_attempts')?.value).toBe('3');
    expect(formKeys(res.body).version).toBe(String(Number(stale.version) + 1));
    expect(login().maxAttempts).toBe(5);
  });

  it('refuses an invalid value with 400 naming and marking the field; nothing saved', async () => {
    const version = view().version;
    const res = await c.admin.post('/settings', {
      form: { ...(await settingsForm()), 'scenarios.login.code_length': '3' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toContain('scenarios.login.code_length: must be an integer from 4 to 10');
    expect(input(res.body, 'scenarios.login.code_length')).toMatchObject({
      'aria-invalid': 'true',
      value: '3',
    });
    expect(input(res.body, 'scenarios.login.ttl_seconds')).not.toHaveProperty('aria-invalid');
    expect(view().version).toBe(version);
  });

  it('shows DingTalk\u2019s reason for a wrong AppSecret with its status, saves nothing, and echoes nothing', async () => {
    const version = view().version;
    const wrong = 'a-wrong-app-secret-for-the-test';
    const res = await c.admin.post('/settings', { form: { ...(await settingsForm()), app_secret: wrong } });
    expect(res.status).toBe(409);
    expect(res.body).toContain('DingTalk refused the AppKey/AppSecret; nothing was saved.');
    expect(res.body).toContain('invalidClientIdOrSecret');
    expect(res.body).not.toContain(wrong);
    expect(c.gw.logText()).not.toContain(wrong);
    expect(view().version).toBe(version);
    expect(view().sources.app_secret).toBe('default');
  });

  it('leaves everything as it is when a form is saved unchanged (an empty AppSecret keeps it)', async () => {
    const version = view().version;
    const keys = await settingsForm();
    const res = await c.admin.post('/settings', {
      form: { ...keys, agent_id: String(view().agentId), app_key: view().appKey, app_secret: '' },
    });
    expect(res.headers.location).toBe('/settings?notice=unchanged');
    expect(view().version).toBe(version);
  });

  it('switches a scenario off so SendCode is refused, and on again', async () => {
    const off = await c.admin.post('/settings', {
      form: { ...(await settingsForm()), 'scenarios.login.enabled': 'false' },
    });
    expect(off.status).toBe(303);
    const err = await rpcError(
      c.gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN }),
    );
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    await c.admin.post('/settings', {
      form: { ...(await settingsForm()), 'scenarios.login.enabled': 'true' },
    });
    const ok = await c.gw.verification.sendCode({ userId: 'alice', scenario: Scenario.SCENARIO_LOGIN });
    expect(ok.verificationId).not.toBe('');
  });

  it('switches recall off for one scenario from its row, shown as a runtime value', async () => {
    const page = await c.admin.get('/settings');
    expect(page.body).toContain('aria-label="Risk warning: Recall when used"');
    const off = await c.admin.post('/settings', {
      form: { ...(await settingsForm()), 'scenarios.risk_warning.recall': 'false' },
    });
    expect(off.status).toBe(303);
    expect(view().scenarios.find((p) => p.scenario === 'risk_warning')!.recall).toBe(false);
    expect(view().sources['scenarios.risk_warning.recall']).toBe('runtime');
    expect(view().scenarios.find((p) => p.scenario === 'login')!.recall).toBe(true);
  });

  it('edits a scenario\u2019s templates on its own page', async () => {
    const page = await c.admin.get('/settings/scenarios/risk_warning');
    const keys = formKeys(page.body);
    const current = view().scenarios.find((p) => p.scenario === 'risk_warning')!.templates;
    const form: Record<string, string> = { ...keys, templates_for: 'risk_warning' };
    Object.entries(current).forEach(([locale, t], n) => {
      form[`tpl.${n}.locale`] = locale;
      form[`tpl.${n}.title`] = t.title;
      form[`tpl.${n}.text`] = t.text;
    });
    const n = Object.keys(current).length;
    form[`tpl.${n}.locale`] = 'ja-JP';
    form[`tpl.${n}.title`] = 'セキュリティ警告';
    form[`tpl.${n}.text`] = 'コード **{code}**（{minutes} 分有効）';
    const res = await c.admin.post('/settings/scenarios/risk_warning', { form });
    expect(res.headers.location).toBe('/settings/scenarios/risk_warning?notice=saved');
    const templates = view().scenarios.find((p) => p.scenario === 'risk_warning')!.templates;
    expect(templates['ja-JP'].title).toBe('セキュリティ警告');
    expect(templates['zh-CN']).toEqual(current['zh-CN']);
    // Saved again as shown (textarea contents included), nothing changes.
    const again = await c.admin.get('/settings/scenarios/risk_warning');
    const text = /<textarea name="tpl\.0\.text"[^>]*>([\s\S]*?)<\/textarea>/.exec(again.body)![1];
    expect(unescape(text)).toBe(Object.values(templates)[0].text);
  });

  it('follows Accept-Language, and the lang cookie set by the language link', async () => {
    const zh = await c.admin.get('/settings', { headers: { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' } });
    expect(zh.body).toContain('<html lang="zh-CN">');
    expect(zh.body).toContain('基础设置');
    const en = await c.admin.get('/settings', { headers: { 'accept-language': 'de-DE,en;q=0.5' } });
    expect(en.body).toContain('Basic settings');
    const client = consoleClient(c.url);
    await client.signIn();
    const sw = await client.get('/lang/zh-CN?back=%2Fbindings');
    expect(sw.status).toBe(303);
    expect(sw.headers.location).toBe('/bindings');
    expect(sw.setCookies[0]).toMatch(/^lang=zh-CN; Path=\/; SameSite=Strict/);
    expect((await client.get('/bindings', { headers: { 'accept-language': 'en' } })).body).toContain(
      '账号绑定',
    );
    expect((await client.get('/lang/en?back=//evil.example')).headers.location).toBe('/');
  });
});

describe('console settings with runtime changes off', () => {
  it('shows the settings read-only with a note, and a change is refused with 409', async () => {
    const c = await startConsoleGateway({ CONFIG_RUNTIME_CHANGES: 'false' });
    try {
      const page = await c.admin.get('/settings');
      expect(page.body).toContain('Runtime changes are turned off');
      expect(tags(page.body, 'button').filter((b) => b.form === 'basic')).toEqual([]);
      expect(input(page.body, 'agent_id')).toHaveProperty('readonly');
      const switches = tags(page.body, 'button').filter((b) => b.role === 'switch');
      expect(switches).toHaveLength(11); // the gateway, and each scenario's switch and recall switch;
      for (const s of switches) expect(s).toHaveProperty('disabled');
      const res = await c.admin.post('/settings', { form: { ...formKeys(page.body), enabled: 'false' } });
      expect(res.status).toBe(409);
      expect(res.body).toContain('CONFIG_RUNTIME_CHANGES=false');
      expect(c.gw.app.admin.view().enabled).toBe(true);
    } finally {
      await c.gw.stop();
    }
  });
});
