import { status } from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { BindingSource } from '../../src/gen/dingtalk/gateway/v1/binding';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { loginAs, openAuthorizePage } from '../helpers/dingtalk-login';
import { simulatorEnv, startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';

/**
 * Binding through DingTalk login against a sandbox gateway, whose built-in simulator plays
 * DingTalk's login page and APIs: the browser's part is done with fetch, as a browser would.
 */
const CALLBACK = 'https://idp.example.com/dingtalk/callback';
const UNION_IDS = ['union-demo-carol', 'union-other-dave', 'union-external-erin'];
const STATE_GONE = 'start the login again';

let gw: TestGateway;
let sim: Simulator;
/** Everything the gateway answered, for the leak check at the end. */
const answers: string[] = [];
const keep = <T>(value: T): T => {
  answers.push(JSON.stringify(value));
  return value;
};
const refusal = async (p: Promise<unknown>) => {
  const err = await rpcError(p);
  answers.push(`${err.code} ${err.details}`);
  return err;
};

beforeAll(async () => {
  gw = await startGateway({ DINGTALK_LOGIN_REDIRECT_URIS: `${CALLBACK}, https://idp.example.com/other` });
  sim = gw.app.simulator!;
});
afterAll(() => gw.stop());

const start = async (userId: string, g: TestGateway = gw) =>
  keep(await g.binding.startDingTalkLogin({ userId, redirectUri: CALLBACK }));
const complete = (state: string, authCode: string, g: TestGateway = gw) =>
  g.binding.completeDingTalkLogin({ state, authCode });

describe('binding through DingTalk login', () => {
  it('binds carol: start, the login page, her choice, the redirect, complete; then a code reaches her', async () => {
    const started = await start('carol');
    expect(started.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(started.authorizeUrl).toBe(
      `${sim.url}/oauth2/auth?redirect_uri=${encodeURIComponent(CALLBACK)}&response_type=code` +
        `&client_id=${sim.appKey}&scope=openid%20corpid&state=${started.state}&prompt=consent`,
    );
    expect(started.expiresAt!.getTime() - Date.now()).toBeGreaterThan(9 * 60_000);
    expect(started.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);

    const page = await openAuthorizePage(started.authorizeUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<title>钉钉登录 · Log in with DingTalk · DingTalk Gateway Sandbox</title>');
    for (const name of ['Alice', 'Bob', 'Carol', 'Dave (another organisation)', 'Erin (external contact)'])
      expect(page.html).toContain(name);
    expect(page.html).not.toMatch(/<script|<link|src="http/);

    const back = await loginAs(started.authorizeUrl, 'Carol');
    expect(`${back.location.origin}${back.location.pathname}`).toBe(CALLBACK);
    expect(back.state).toBe(started.state);
    expect(back.authCode).not.toBe('');

    const { binding } = keep(await complete(back.state, back.authCode));
    expect(binding).toMatchObject({
      userId: 'carol',
      dingtalkUserId: 'demo-carol',
      source: BindingSource.BINDING_SOURCE_DINGTALK_LOGIN,
    });
    expect(keep(await gw.binding.getBinding({ userId: 'carol' })).binding).toEqual(binding);
    expect(gw.logs.find((l) => l.audit === 'binding.created' && l.userId === 'carol')).toMatchObject({
      dingtalkUserId: 'demo-carol',
      source: 'dingtalk_login',
    });

    const before = sim.inbox.length;
    keep(await gw.verification.sendCode({ userId: 'carol', scenario: Scenario.SCENARIO_LOGIN }));
    expect(sim.inbox.slice(before).map((m) => m.userid)).toEqual(['demo-carol']);
  });

  it('refuses a state used once already, without asking DingTalk again', async () => {
    const started = await start('reuse');
    const back = await loginAs(started.authorizeUrl, 'Carol');
    keep(await complete(back.state, back.authCode));
    const exchanges = sim.calls.user_access_token;
    const err = await refusal(complete(back.state, back.authCode));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain(STATE_GONE);
    expect(sim.calls.user_access_token).toBe(exchanges);
  });

  it('lets exactly one of concurrent completions of one state win', async () => {
    const started = await start('racer');
    const back = await loginAs(started.authorizeUrl, 'Bob');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, () => complete(back.state, back.authCode)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes)
      if (o.status === 'rejected')
        expect((o.reason as { code: number }).code).toBe(status.FAILED_PRECONDITION);
  });

  it('refuses an unknown state and a malformed one', async () => {
    const unknown = await refusal(complete(randomBytes(32).toString('base64url'), 'some-code'));
    expect([unknown.code, unknown.details]).toEqual([
      status.FAILED_PRECONDITION,
      expect.stringContaining(STATE_GONE),
    ]);
    const malformed = await refusal(complete('short', 'some-code'));
    expect(malformed.code).toBe(status.INVALID_ARGUMENT);
    expect(malformed.details.startsWith('state: ')).toBe(true);
    const noCode = await refusal(complete(randomBytes(32).toString('base64url'), ''));
    expect(noCode.details.startsWith('auth_code: ')).toBe(true);
  });

  it('refuses a state past its 10 minutes, on the gateway clock', async () => {
    const started = await start('late');
    const back = await loginAs(started.authorizeUrl, 'Carol');
    gw.advance(10 * 60_000 + 1);
    const err = await refusal(complete(back.state, back.authCode));
    expect([err.code, err.details]).toEqual([
      status.FAILED_PRECONDITION,
      expect.stringContaining(STATE_GONE),
    ]);
    await expect(gw.binding.getBinding({ userId: 'late' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('accepts only a redirect URI on DINGTALK_LOGIN_REDIRECT_URIS, exactly', async () => {
    keep(await gw.binding.startDingTalkLogin({ userId: 'u', redirectUri: 'https://idp.example.com/other' }));
    for (const redirectUri of [
      `${CALLBACK}/`,
      `${CALLBACK}?next=https://evil.example`,
      'https://idp.example.com/dingtalk/callbackx',
      'https://evil.example/dingtalk/callback',
      'http://127.0.0.1:8080/callback',
      '',
    ]) {
      const err = await refusal(gw.binding.startDingTalkLogin({ userId: 'u', redirectUri }));
      expect([redirectUri, err.code]).toEqual([redirectUri, status.INVALID_ARGUMENT]);
      expect(err.details.startsWith('redirect_uri: ')).toBe(true);
    }
    const noUser = await refusal(gw.binding.startDingTalkLogin({ userId: '', redirectUri: CALLBACK }));
    expect(noUser.details.startsWith('user_id: ')).toBe(true);
  });

  it('refuses an account of another organisation: not a member, and by DINGTALK_CORP_ID when set', async () => {
    const started = await start('dave');
    const back = await loginAs(started.authorizeUrl, 'Dave');
    const err = await refusal(complete(back.state, back.authCode));
    expect([err.code, err.details]).toEqual([
      status.FAILED_PRECONDITION,
      'the DingTalk account that logged in is not a member of this organisation',
    ]);

    const strict = await startGateway({
      DINGTALK_LOGIN_REDIRECT_URIS: CALLBACK,
      DINGTALK_CORP_ID: 'ding-sandbox-corp',
    });
    try {
      const s = await start('dave', strict);
      const b = await loginAs(s.authorizeUrl, 'Dave');
      const e = await refusal(complete(b.state, b.authCode, strict));
      expect(e.code).toBe(status.FAILED_PRECONDITION);
      expect(e.details).toContain('another organisation');
      expect(strict.app.simulator!.calls.login_user ?? 0).toBe(0);
      // A member's login carries this organisation's CorpId and passes.
      const c = await start('carol', strict);
      const cb = await loginAs(c.authorizeUrl, 'Carol');
      expect(keep(await complete(cb.state, cb.authCode, strict)).binding!.dingtalkUserId).toBe('demo-carol');
      expect(strict.logText()).not.toContain('union-other-dave');
    } finally {
      await strict.stop();
    }
    await expect(gw.binding.getBinding({ userId: 'dave' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it('refuses an external contact of the organisation', async () => {
    const started = await start('erin');
    const back = await loginAs(started.authorizeUrl, 'Erin');
    const err = await refusal(complete(back.state, back.authCode));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('external contact');
    expect(gw.logs.find((l) => l.audit === 'binding.login_refused' && l.userId === 'erin')).toMatchObject({
      reason: 'external_contact',
    });
    await expect(gw.binding.getBinding({ userId: 'erin' })).rejects.toMatchObject({ code: status.NOT_FOUND });
  });

  it("passes on DingTalk's HTTP 400 for an authCode used already, with a fresh state", async () => {
    const first = await start('once');
    const back = await loginAs(first.authorizeUrl, 'Carol');
    keep(await complete(back.state, back.authCode));
    const second = await start('twice');
    const err = await refusal(complete(second.state, back.authCode));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toContain('the DingTalk login code is invalid or was used');
    expect(err.details).toContain('HTTP 400');
  });

  it('binds with an in-app auth code (免登) once; the same code again is refused', async () => {
    const code = sim.mintInAppCode('demo-carol');
    const { binding } = keep(
      await gw.binding.bindUser({ userId: 'carol-in-app', target: { $case: 'authCode', value: code } }),
    );
    expect(binding).toMatchObject({
      userId: 'carol-in-app',
      dingtalkUserId: 'demo-carol',
      source: BindingSource.BINDING_SOURCE_DINGTALK_IN_APP,
    });
    const again = await refusal(
      gw.binding.bindUser({ userId: 'carol-in-app-2', target: { $case: 'authCode', value: code } }),
    );
    expect(again.code).toBe(status.FAILED_PRECONDITION);
    expect(again.details).toContain('in-app auth code is invalid or was used');
    expect(again.metadata.get('dingtalk-errcode')).toEqual(['40078']);
    expect(sim.calls.getuserinfo).toBe(2);
  });

  it('never logs or returns a unionId or a user access token', () => {
    const secrets = [...UNION_IDS, ...sim.issuedUserTokens()];
    expect(sim.issuedUserTokens().length).toBeGreaterThan(3);
    const log = gw.logText();
    const said = answers.join('\n');
    expect(secrets.filter((s) => log.includes(s) || said.includes(s))).toEqual([]);
  });
});

describe('redirect URIs without DINGTALK_LOGIN_REDIRECT_URIS', () => {
  it('the sandbox allows loopback http callbacks only', async () => {
    const sandbox = await startGateway();
    try {
      for (const redirectUri of ['http://127.0.0.1:8080/callback', 'http://localhost:3000/dingtalk?x=1']) {
        const s = await sandbox.binding.startDingTalkLogin({ userId: 'u', redirectUri });
        expect(s.authorizeUrl).toContain(`redirect_uri=${encodeURIComponent(redirectUri)}`);
      }
      for (const redirectUri of [
        'https://idp.example.com/cb',
        'https://127.0.0.1/cb',
        'http://127.0.0.1.evil.example/cb',
      ]) {
        const err = await rpcError(sandbox.binding.startDingTalkLogin({ userId: 'u', redirectUri }));
        expect([redirectUri, err.code]).toEqual([redirectUri, status.INVALID_ARGUMENT]);
        expect(err.details).toContain('the sandbox allows only http://127.0.0.1');
      }
    } finally {
      await sandbox.stop();
    }
  });

  it('live mode refuses StartDingTalkLogin, saying what to set', async () => {
    const dingtalk = await startSimulator();
    const live = await startGateway(simulatorEnv(dingtalk));
    try {
      const err = await rpcError(live.binding.startDingTalkLogin({ userId: 'u', redirectUri: CALLBACK }));
      expect(err.code).toBe(status.FAILED_PRECONDITION);
      expect(err.details).toContain('set DINGTALK_LOGIN_REDIRECT_URIS');
    } finally {
      await live.stop();
      await dingtalk.close();
    }
  });
});
