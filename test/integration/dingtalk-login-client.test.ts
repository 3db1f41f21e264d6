import {
  createDingTalkClient,
  type DingTalkClient,
  type DingTalkClientOptions,
} from '../../src/dingtalk/client';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { authorizeUrl } from '../../src/domain/login';
import { isGatewayFailure, type GatewayError } from '../../src/domain/errors';
import { formsOf, loginAs, openAuthorizePage } from '../helpers/dingtalk-login';

/**
 * The DingTalk client's login calls against the simulator: the authCode exchange, users/me,
 * getbyunionid's contact type and getuserinfo, with DingTalk's refusals classified, and
 * the one-time codes never retried.
 */
let sim: Simulator;
const clients: DingTalkClient[] = [];
const logLines: string[] = [];
beforeAll(async () => {
  sim = await startSimulator();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  sim.reset();
});
afterAll(() => sim.close());

const logger = {
  debug: (o: object, m: string) => logLines.push(JSON.stringify(o) + m),
  warn: (o: object, m: string) => logLines.push(JSON.stringify(o) + m),
};

function client(overrides: Partial<DingTalkClientOptions> = {}): DingTalkClient {
  const c = createDingTalkClient({
    apiUrl: sim.url,
    oapiUrl: sim.url,
    appKey: sim.appKey,
    appSecret: sim.appSecret,
    agentId: sim.agentId,
    timeoutMs: 1000,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    logger,
    ...overrides,
  });
  clients.push(c);
  return c;
}

async function failureOf(p: Promise<unknown>): Promise<GatewayError> {
  try {
    await p;
  } catch (e) {
    if (!isGatewayFailure(e)) throw e;
    return e.detail;
  }
  throw new Error('expected a failure');
}

const REDIRECT = 'https://idp.example.com/cb';
const codeFor = async (name: string) =>
  (
    await loginAs(
      authorizeUrl({ loginUrl: sim.url, clientId: sim.appKey, redirectUri: REDIRECT, state: 'st' }),
      name,
    )
  ).authCode;

describe('DingTalk login through the client', () => {
  it('exchanges a code, reads the unionId with the user token, and maps it to the member', async () => {
    const c = client();
    const token = await c.exchangeLoginCode(await codeFor('Carol'));
    expect(token.corpId).toBe(sim.corpId);
    expect(sim.issuedUserTokens()).toContain(token.accessToken);
    expect(sim.issuedTokens()).not.toContain(token.accessToken);
    expect(await c.getLoginUser(token.accessToken)).toEqual({ unionId: 'union-demo-carol' });
    expect(await c.getByUnionId('union-demo-carol')).toEqual({ userId: 'demo-carol', contactType: 0 });
    expect(await c.getByUnionId('union-external-erin')).toEqual({ userId: 'external-erin', contactType: 1 });
    expect(await c.getByUnionId('union-other-dave')).toBeUndefined();
    expect(c.stats().calls).toMatchObject({ user_access_token: { '0': 1 }, login_user: { '0': 1 } });
  });

  it("carries the other organisation's CorpId for its account", async () => {
    expect((await client().exchangeLoginCode(await codeFor('Dave'))).corpId).toBe('ding-other-corp');
  });

  it('classifies a used or unknown code as login_code, and a wrong AppSecret as credentials', async () => {
    const c = client();
    const code = await codeFor('Carol');
    const wrong = await failureOf(client({ appSecret: 'not-the-secret' }).exchangeLoginCode(code));
    expect(wrong).toMatchObject({ kind: 'upstream', upstream: 'credentials' });
    await c.exchangeLoginCode(code); // the refused exchange did not spend it
    for (const again of [code, 'never-issued']) {
      const used = await failureOf(c.exchangeLoginCode(again));
      expect(used).toMatchObject({ kind: 'upstream', upstream: 'login_code', endpoint: 'user_access_token' });
      expect(used.message).toContain('HTTP 400');
      expect(used.message).toContain('the DingTalk login code is invalid or was used');
    }
    const badToken = await failureOf(c.getLoginUser('not-a-token'));
    expect(badToken).toMatchObject({ upstream: 'login_code', endpoint: 'login_user' });
    expect(badToken.message).toContain('HTTP 401');
  });

  it('never retries the code exchange, but retries the users/me read', async () => {
    const c = client();
    const code = await codeFor('Carol');
    sim.inject('user_access_token', { type: 'reset' });
    expect(await failureOf(c.exchangeLoginCode(code))).toMatchObject({ upstream: 'transport' });
    expect(sim.calls.user_access_token).toBe(1);
    const token = await c.exchangeLoginCode(code);
    sim.inject('login_user', { type: 'http', status: 502, body: 'bad gateway' });
    expect(await c.getLoginUser(token.accessToken)).toEqual({ unionId: 'union-demo-carol' });
    expect(sim.calls.login_user).toBe(2);
  });

  it('names the Contact.User.Read permission when users/me is denied', async () => {
    const c = client();
    const token = await c.exchangeLoginCode(await codeFor('Carol'));
    sim.inject('login_user', {
      type: 'http',
      status: 403,
      body: { code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied', message: 'no permission' },
    });
    const denied = await failureOf(c.getLoginUser(token.accessToken));
    expect(denied).toMatchObject({ upstream: 'permission' });
    expect(denied.message).toContain('Contact.User.Read');
  });

  it('resolves an in-app auth code once (40078 after), and does not retry getuserinfo', async () => {
    const c = client();
    const code = sim.mintInAppCode('demo-bob');
    expect(await c.getUserInfoByAuthCode(code)).toEqual({ userId: 'demo-bob', unionId: 'union-demo-bob' });
    const used = await failureOf(c.getUserInfoByAuthCode(code));
    expect(used).toMatchObject({ upstream: 'login_code', errcode: 40078 });
    sim.inject('getuserinfo', { type: 'errcode', errcode: -1 });
    const busy = await failureOf(c.getUserInfoByAuthCode(sim.mintInAppCode('demo-bob')));
    expect(busy).toMatchObject({ upstream: 'busy' });
    expect(sim.calls.getuserinfo).toBe(3);
    expect(() => sim.mintInAppCode('demo-former')).toThrow(/no active member/);
  });

  it('keeps the user access token and the unionId out of the log', () => {
    const log = logLines.join('\n');
    for (const secret of [...sim.issuedUserTokens(), 'union-demo-carol', 'union-demo-bob'])
      expect(log).not.toContain(secret);
  });
});

describe("the simulator's login page", () => {
  const url = (over: Record<string, string> = {}) => {
    const u = new URL(
      authorizeUrl({ loginUrl: sim.url, clientId: sim.appKey, redirectUri: REDIRECT, state: 's1' }),
    );
    for (const [k, v] of Object.entries(over)) u.searchParams.set(k, v);
    return u.toString();
  };

  it('shows an error page for an unknown client_id, a wrong response_type or no redirect_uri', async () => {
    for (const [over, problem] of [
      [{ client_id: 'someone-else' }, 'no app has the client_id someone-else'],
      [{ response_type: 'token' }, 'response_type must be code'],
      [{ redirect_uri: '' }, 'redirect_uri is missing'],
      [{ scope: 'corpid' }, 'scope must include openid'],
    ] as const) {
      const page = await openAuthorizePage(url(over));
      expect([page.status, page.html]).toEqual([400, expect.stringContaining(problem)]);
    }
  });

  it('redirects a refusal back with error=access_denied and the state', async () => {
    const page = await openAuthorizePage(url());
    const cancel = formsOf(page.html).find((f) => f.fields.get('decision') === 'deny')!;
    const res = await fetch(new URL(cancel.action, page.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: cancel.fields.toString(),
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${REDIRECT}?error=access_denied&state=s1`);
  });

  it('keeps a query the redirect URI already has', async () => {
    const back = await loginAs(url({ redirect_uri: `${REDIRECT}?tenant=a` }), 'Alice');
    expect(back.location.searchParams.get('tenant')).toBe('a');
    expect(back.state).toBe('s1');
  });
});
