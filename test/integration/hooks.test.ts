import { execFileSync, spawnSync } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { simulatorEnv, startGateway, type TestGateway } from '../helpers/gateway';
import {
  basic,
  newToken,
  newWebhookSecret,
  post,
  standardWebhookHeaders,
  zitadelSignature,
  type HookAnswer,
} from '../helpers/hooks';

/**
 * Every identity server's route, with requests shaped as that server sends them and signed
 * as it signs them (test/helpers/hooks.ts, node:crypto only), against a live gateway whose
 * DingTalk is the simulator: what is delivered, what is refused and in which format, and
 * that nothing of a code, a mobile, a secret or a signature reaches the log.
 */
const root = join(__dirname, '..', '..');
const secrets = {
  kratos: newToken(),
  zitadel: newToken(),
  supabase: newWebhookSecret(),
  logto: newToken(),
  authentik: newToken(),
  casdoor: newToken(),
  generic: newToken(),
};
const hookEnv = (extra: Record<string, string> = {}) => ({
  HOOK_KRATOS_API_KEY: secrets.kratos,
  HOOK_ZITADEL_SIGNING_KEY: secrets.zitadel,
  HOOK_SUPABASE_SECRET: secrets.supabase,
  HOOK_LOGTO_TOKEN: secrets.logto,
  HOOK_AUTHENTIK_TOKEN: secrets.authentik,
  HOOK_CASDOOR_TOKEN: secrets.casdoor,
  HOOK_GENERIC_TOKEN: secrets.generic,
  HOOK_MAX_BODY_BYTES: '4096',
  CODE_RESEND_INTERVAL_SECONDS: '0',
  CODE_MAX_SENDS_PER_HOUR: '1000',
  CODE_MAX_SENDS_PER_USER_PER_DAY: '0',
  CODE_MAX_SENDS_SINCE_SUCCESS: '0',
  ...extra,
});

/** Everything secret or personal the tests send: none of it may reach the log. */
const sent: string[] = Object.values(secrets).flatMap((s) => [s, s.replace('v1,whsec_', '')]);
const newCode = () => {
  const code = String(randomInt(100_000, 1_000_000));
  sent.push(code);
  return code;
};

interface Request {
  body: string;
  headers: Record<string, string>;
}

interface Case {
  name: keyof typeof secrets;
  /** Who the request is for, as DingTalk knows them. */
  to: string;
  /** The request for `code`, as the server makes it. */
  request(code: string, mobile?: string): Request;
  /** The same request with a wrong credential or signature. */
  forged(code: string): Request;
  /** The same request without any credential. */
  bare(code: string): Request;
  /** What the server counts as success. */
  success(a: HookAnswer): void;
  /** The server's error format: the status and message it reads. */
  error(a: HookAnswer): { status: number; message: string };
}

const json = { 'content-type': 'application/json' };
const jsonError = (a: HookAnswer) => {
  expect(a.type).toMatch(/^application\/json/);
  const body = a.json() as { error: { code: string; message: string } };
  expect(body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
  return { status: a.status, message: body.error.message };
};
const anyTwoHundred = (a: HookAnswer) => expect(a.status).toBe(200);

/** The body deploy/hooks/kratos-body.jsonnet makes of Kratos's context (checked against the file below). */
const kratosBody = (code: string, mobile = '+8613800000001') =>
  JSON.stringify({
    body: `Your login code is: ${code}`,
    code,
    expires_in_minutes: 15,
    identity_id: `f0b4c1d2-5e6f-4a7b-8c9d-0e1f2a3b${mobile.slice(-4)}`,
    recipient: mobile,
    template_type: 'login_code_valid',
  });
const zitadelBody = (code: string, mobile = '+8613800000002') =>
  JSON.stringify({
    contextInfo: {
      eventType: 'user.human.otp.sms.code.added',
      provider: { id: '287134561250000001', description: 'DingTalk' },
      recipientPhoneNumber: mobile,
    },
    templateData: { title: 'Verification', text: `Your one-time password is ${code}`, footerText: 'ZITADEL' },
    args: {
      code,
      userID: `28713456125000${mobile.slice(-4)}`,
      userName: 'bob@example.com',
      preferredLanguage: 'en',
    },
  });
const supabaseBody = (code: string, mobile = '8613800000003') =>
  JSON.stringify({
    metadata: {
      uuid: randomUUID(),
      time: new Date().toISOString(),
      name: 'send-sms',
      ip_address: '203.0.113.7',
    },
    user: {
      id: `6b1a4f2c-8d3e-4f5a-9b6c-7d8e9f0a${mobile.slice(-4)}`,
      aud: 'authenticated',
      role: 'authenticated',
      phone: mobile,
    },
    sms: { otp: code, sms_type: 'sms' },
  });

const CASES: Case[] = [
  {
    name: 'kratos',
    to: 'demo-alice',
    request: (code, mobile) => ({
      body: kratosBody(code, mobile),
      headers: { ...json, 'x-api-key': secrets.kratos },
    }),
    forged: (code) => ({ body: kratosBody(code), headers: { ...json, 'x-api-key': newToken() } }),
    bare: (code) => ({ body: kratosBody(code), headers: json }),
    success: anyTwoHundred,
    error: jsonError,
  },
  {
    name: 'zitadel',
    to: 'demo-bob',
    request: (code, mobile) => {
      const body = zitadelBody(code, mobile);
      return { body, headers: { ...json, 'zitadel-signature': zitadelSignature(secrets.zitadel, body) } };
    },
    forged: (code) => {
      const body = zitadelBody(code);
      return { body, headers: { ...json, 'zitadel-signature': zitadelSignature(newToken(), body) } };
    },
    bare: (code) => ({ body: zitadelBody(code), headers: json }),
    success: anyTwoHundred,
    error: jsonError,
  },
  {
    name: 'supabase',
    to: 'demo-carol',
    request: (code, mobile) => {
      const body = supabaseBody(code, mobile);
      return { body, headers: { ...json, ...standardWebhookHeaders(secrets.supabase, body) } };
    },
    forged: (code) => {
      const body = supabaseBody(code);
      return { body, headers: { ...json, ...standardWebhookHeaders(newWebhookSecret(), body) } };
    },
    bare: (code) => ({ body: supabaseBody(code), headers: json }),
    success: (a) => {
      expect(a.status).toBe(200);
      expect(a.type).toMatch(/^application\/json/);
      expect(a.json()).toEqual({});
    },
    error: (a) => {
      expect(a.type).toMatch(/^application\/json/);
      const body = a.json() as { error: { http_code: number; message: string } };
      expect(body.error.http_code).toBe(a.status);
      return { status: a.status, message: body.error.message };
    },
  },
  {
    name: 'logto',
    to: 'demo-alice',
    request: (code, mobile = '8613800000001') => ({
      body: JSON.stringify({
        to: mobile,
        type: 'SignIn',
        payload: { code, locale: 'en' },
        ip: '198.51.100.20',
      }),
      headers: { ...json, authorization: `Bearer ${secrets.logto}` },
    }),
    forged: (code) => ({
      body: JSON.stringify({ to: '8613800000001', type: 'SignIn', payload: { code } }),
      headers: { ...json, authorization: `Bearer ${newToken()}` },
    }),
    bare: (code) => ({
      body: JSON.stringify({ to: '8613800000001', type: 'SignIn', payload: { code } }),
      headers: json,
    }),
    success: anyTwoHundred,
    error: jsonError,
  },
  {
    name: 'authentik',
    to: 'demo-bob',
    request: (code, mobile = '+8613800000002') => ({
      body: JSON.stringify({
        From: '+8610000000000',
        To: mobile,
        Body: code,
        Message: `Use this code to authenticate in authentik: ${code}`,
      }),
      headers: { ...json, authorization: basic('authentik', secrets.authentik) },
    }),
    forged: (code) => ({
      body: JSON.stringify({ From: '', To: '+8613800000002', Body: code, Message: code }),
      headers: { ...json, authorization: `Bearer ${newToken()}` },
    }),
    bare: (code) => ({
      body: JSON.stringify({ From: '', To: '+8613800000002', Body: code, Message: code }),
      headers: json,
    }),
    success: anyTwoHundred,
    error: (a) => {
      expect(a.type).toMatch(/^text\/plain/);
      return { status: a.status, message: a.text };
    },
  },
  {
    name: 'casdoor',
    to: 'demo-carol',
    request: (code, mobile = '13800000003') => ({
      body: new URLSearchParams({
        phoneNumber: mobile,
        content: `Your code is ${code}, valid for 10 minutes.`,
      }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${secrets.casdoor}`,
      },
    }),
    forged: (code) => ({
      body: new URLSearchParams({ phoneNumber: '13800000003', content: code }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${newToken()}` },
    }),
    bare: (code) => ({
      body: new URLSearchParams({ phoneNumber: '13800000003', content: code }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }),
    // Casdoor counts exactly 200 as sent.
    success: (a) => expect(a.status).toBe(200),
    error: jsonError,
  },
  {
    name: 'generic',
    to: 'demo-alice',
    request: (code, mobile = '+86 138 0000 0001') => ({
      body: JSON.stringify({ mobile, code, scenario: 'login', locale: 'zh-CN' }),
      headers: { ...json, authorization: `Bearer ${secrets.generic}` },
    }),
    forged: (code) => ({
      body: JSON.stringify({ mobile: '13800000001', code }),
      headers: { ...json, authorization: basic('keycloak', newToken()) },
    }),
    bare: (code) => ({ body: JSON.stringify({ mobile: '13800000001', code }), headers: json }),
    success: (a) => {
      expect(a.status).toBe(200);
      expect(a.json()).toMatchObject({
        status: 'sent',
        delivery_id: expect.any(String),
        dingtalk_user_id: 'demo-alice',
      });
    },
    error: jsonError,
  },
];
sent.push('13800000001', '13800000002', '13800000003', '13800000009', '8613800000001', '8613800000002');

describe('HTTP hooks, one route per identity server', () => {
  let sim: Simulator;
  let gw: TestGateway;
  const url = (name: string) => `${gw.app.hooks!.url}/hooks/${name}`;
  const inbox = () => sim.inbox.length;
  const send = (name: string, r: Request) => post(url(name), r.body, r.headers);

  beforeAll(async () => {
    sim = await startSimulator();
    gw = await startGateway({ ...simulatorEnv(sim), ...hookEnv() });
  });
  afterAll(async () => {
    await gw?.stop();
    await sim?.close();
  });

  it('serves every route whose credential is configured, and nothing else', async () => {
    expect(gw.app.hooks!.routes.sort()).toEqual(Object.keys(secrets).sort());
    const unknown = await post(url('okta'), '{}', json);
    expect(unknown.status).toBe(404);
    const get = await fetch(url('supabase'));
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'POST']);
    expect(get.headers.get('x-content-type-options')).toBe('nosniff');
  });

  describe.each(CASES)('POST /hooks/$name', (c) => {
    it("delivers the caller's code to the user in one work notification", async () => {
      const code = newCode();
      const before = inbox();
      const answer = await send(c.name, c.request(code));
      c.success(answer);
      const messages = sim.inbox.slice(before);
      expect(messages).toHaveLength(1);
      expect(messages[0].userid).toBe(c.to);
      expect(messages[0].text).toContain(code);
    });

    it('refuses a missing or a wrong credential with 401 and sends nothing', async () => {
      const before = inbox();
      for (const r of [c.bare(newCode()), c.forged(newCode())]) {
        const answer = await send(c.name, r);
        expect(c.error(answer).status).toBe(401);
      }
      expect(inbox()).toBe(before);
    });

    it('answers a replayed request with the first answer and sends no second message', async () => {
      const r = c.request(newCode());
      const before = inbox();
      const first = await send(c.name, r);
      const again = await send(c.name, r);
      c.success(first);
      c.success(again);
      expect(again.text.replace('"replayed":true', '"replayed":false')).toBe(first.text);
      expect(inbox()).toBe(before + 1);
    });

    it('refuses a body over the limit with 413 before reading it', async () => {
      const r = c.request(newCode());
      const answer = await send(c.name, { ...r, body: r.body + ' '.repeat(5000) });
      expect(c.error(answer).status).toBe(413);
    });

    it('answers a mobile no DingTalk user has with a final 409 in its own format, sending nothing', async () => {
      const before = inbox();
      const answer = await send(c.name, c.request(newCode(), '+8613800000009'));
      const e = c.error(answer);
      expect(e.status).toBe(409);
      expect(e.message).toMatch(/not bound|no active DingTalk user/);
      expect(answer.headers.get('retry-after')).toBeNull();
      expect(inbox()).toBe(before);
    });
  });

  describe('signed routes', () => {
    it('ZITADEL: refuses a signature older than 300 s, or one made for another body', async () => {
      const body = zitadelBody(newCode());
      const old = zitadelSignature(secrets.zitadel, body, Math.floor(Date.now() / 1000) - 301);
      const stale = await post(url('zitadel'), body, { ...json, 'zitadel-signature': old });
      expect(stale.status).toBe(401);
      const other = zitadelSignature(secrets.zitadel, zitadelBody(newCode()));
      expect((await post(url('zitadel'), body, { ...json, 'zitadel-signature': other })).status).toBe(401);
    });

    it('Supabase: refuses an old timestamp; takes any of several signatures; a retry of the same webhook id is answered from the first', async () => {
      const before = inbox();
      const body = supabaseBody(newCode());
      const stale = standardWebhookHeaders(secrets.supabase, body, {
        timestamp: Math.floor(Date.now() / 1000) - 301,
      });
      const refused = await post(url('supabase'), body, { ...json, ...stale });
      expect([refused.status, (refused.json() as { error: { http_code: number } }).error.http_code]).toEqual([
        401, 401,
      ]);
      // Signed under a retired and the current secret, space-separated, as during a rotation.
      const good = standardWebhookHeaders(secrets.supabase, body);
      const retired = standardWebhookHeaders(newWebhookSecret(), body, {
        id: good['webhook-id'],
        timestamp: Number(good['webhook-timestamp']),
      });
      const headers = {
        ...good,
        'webhook-signature': `${retired['webhook-signature']} ${good['webhook-signature']}`,
      };
      expect((await post(url('supabase'), body, { ...json, ...headers })).status).toBe(200);
      // Supabase retries with the same id, signed anew.
      const retry = standardWebhookHeaders(secrets.supabase, body, { id: good['webhook-id'] });
      const again = await post(url('supabase'), body, { ...json, ...retry });
      expect([again.status, again.text]).toEqual([200, '{}']);
      expect(inbox()).toBe(before + 1);
    });
  });

  it('answers "accepted" before the caller gives up when DingTalk is slow, and finishes in the background', async () => {
    const slow = await startGateway({ ...simulatorEnv(sim), ...hookEnv({ HOOK_ANSWER_WITHIN_MS: '300' }) });
    try {
      sim.inject('asyncsend_v2', { type: 'delay', ms: 1200 });
      const code = newCode();
      const body = supabaseBody(code);
      const headers = { ...json, ...standardWebhookHeaders(secrets.supabase, body) };
      const before = inbox();
      const started = Date.now();
      const first = await post(`${slow.app.hooks!.url}/hooks/supabase`, body, headers);
      expect([first.status, first.text, Date.now() - started < 1000]).toEqual([202, '{}', true]);
      await waitFor(() => inbox() > before);
      const retry = await post(`${slow.app.hooks!.url}/hooks/supabase`, body, headers);
      expect([retry.status, retry.text]).toEqual([200, '{}']);
      expect(sim.inbox.slice(before).map((m) => m.text.includes(code))).toEqual([true]);
      const pending = slow.logs.find((l) => l.audit === 'hook.answered_pending')!;
      await waitFor(() => slow.logs.some((l) => l.audit === 'hook.completed_late'));
      const delivery = await slow.verification.getDelivery({
        verificationId: String(pending.verificationId),
      });
      expect(delivery.dingtalkUserId).toBe('demo-carol');
    } finally {
      sim.clearFaults();
      await slow.stop();
    }
  });

  it('a generic caller reads its delivery back with GetDelivery', async () => {
    const answer = await send('generic', CASES.find((c) => c.name === 'generic')!.request(newCode()));
    const { delivery_id } = answer.json() as { delivery_id: string };
    const delivery = await gw.verification.getDelivery({ verificationId: delivery_id });
    expect(delivery).toMatchObject({ userId: 'dingtalk:demo-alice', dingtalkUserId: 'demo-alice' });
  });

  it("renders the code into our template by default, or sends the caller's own text where the route says so", async () => {
    const own = await startGateway({ ...simulatorEnv(sim), ...hookEnv({ HOOK_ZITADEL_MESSAGE: 'caller' }) });
    try {
      const code = newCode();
      const body = zitadelBody(code);
      const before = inbox();
      await post(`${own.app.hooks!.url}/hooks/zitadel`, body, {
        ...json,
        'zitadel-signature': zitadelSignature(secrets.zitadel, body),
      });
      expect(sim.inbox[before].text).toContain(`Your one-time password is ${code}`);
      const ours = await send('zitadel', CASES[1].request(code));
      expect(ours.status).toBe(200);
      expect(sim.inbox[before + 1].text).toContain(`**${code}**`);
      expect(sim.inbox[before + 1].text).not.toContain('Your one-time password');
    } finally {
      await own.stop();
    }
  });

  it('refuses a streamed body (no content-length) once it passes the limit, and survives a body cut off', async () => {
    const { hostname, port } = new URL(gw.app.hooks!.url);
    const before = inbox();
    // Chunked: the size is only known while reading, so the 413 comes from counting the chunks.
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: hostname,
          port,
          path: '/hooks/generic',
          method: 'POST',
          headers: { ...json, authorization: `Bearer ${secrets.generic}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 6; i++) req.write('x'.repeat(1000));
      req.end();
    });
    expect(status).toBe(413);
    // A client that dies halfway through its body: the gateway gives up on it, nothing is sent.
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(
          `POST /hooks/generic HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"us`,
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    const after = await send('generic', CASES.find((c) => c.name === 'generic')!.request(newCode()));
    expect(after.status).toBe(200);
    expect(inbox()).toBe(before + 1);
  });

  it('never writes a code, a mobile number, a secret or a signature to the log', () => {
    const text = gw.logText();
    expect(text).toContain('"audit":"code.sent"');
    for (const s of sent) expect({ leaked: text.includes(s) ? s : undefined }).toEqual({ leaked: undefined });
    expect(text).not.toMatch(/v1=[0-9a-f]{64}|v1,[A-Za-z0-9+/]{43}=/);
  });
});

describe('HTTP hooks for a disabled scenario', () => {
  it('answers each server with its final 409 and sends nothing', async () => {
    const sim = await startSimulator();
    const scenarios = ['login', 'password_recovery', 'two_factor', 'password_reset', 'risk_warning'];
    const yaml = `scenarios:\n${scenarios.map((s) => `  ${s}:\n    enabled: false\n`).join('')}`;
    const gw = await startGateway(
      { ...simulatorEnv(sim), ...hookEnv(), CONFIG_FILE: '/cfg.yaml' },
      { '/cfg.yaml': yaml },
    );
    try {
      for (const c of CASES) {
        const r = c.request(newCode());
        const answer = await post(`${gw.app.hooks!.url}/hooks/${c.name}`, r.body, r.headers);
        const e = c.error(answer);
        expect({ route: c.name, status: e.status, disabled: /disabled/.test(e.message) }).toEqual({
          route: c.name,
          status: 409,
          disabled: true,
        });
      }
      expect(sim.inbox).toHaveLength(0);
    } finally {
      await gw.stop();
      await sim.close();
    }
  });
});

const hasJsonnet = spawnSync('jsonnet', ['--version'], { stdio: 'ignore' }).status === 0;
(hasJsonnet ? it : it.skip)('deploy/hooks/kratos-body.jsonnet makes the body the Kratos tests send', () => {
  const code = '482913';
  const ctx = {
    recipient: '+8613800000001',
    subject: '',
    body: `Your login code is: ${code}`,
    template_type: 'login_code_valid',
    template_data: {
      to: '+8613800000001',
      login_code: code,
      identity: { id: 'f0b4c1d2-5e6f-4a7b-8c9d-0e1f2a3b0001', traits: { phone: '+8613800000001' } },
      request_url: 'https://auth.example.com/self-service/login?flow=1',
      expires_in_minutes: 15,
    },
    message_type: 'sms',
  };
  const out = execFileSync('jsonnet', [
    '--tla-code',
    `ctx=${JSON.stringify(ctx)}`,
    join(root, 'deploy/hooks/kratos-body.jsonnet'),
  ]);
  expect(JSON.parse(out.toString())).toEqual(JSON.parse(kratosBody(code)));
});

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}
