import { inspect } from 'node:util';
import {
  createDingTalkClient,
  type DingTalkClient,
  type DingTalkClientOptions,
} from '../../src/dingtalk/client';
import { sleep as realSleep } from '../../src/dingtalk/retry';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { isGatewayFailure, type GatewayError, type GatewayFailure } from '../../src/domain/errors';
import { freezableProxy } from '../helpers/net';

let sim: Simulator;
const clients: DingTalkClient[] = [];
/** Every failure any test saw, and every log line: checked for secrets at the end. */
const failures: GatewayFailure[] = [];
const logLines: string[] = [];
const MOBILES = ['13800000001', '13800000005', '13999999999', '12-34'];

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

function client(overrides: Partial<DingTalkClientOptions> = {}, on: Simulator = sim): DingTalkClient {
  const c = createDingTalkClient({
    apiUrl: on.url,
    oapiUrl: on.url,
    appKey: on.appKey,
    appSecret: on.appSecret,
    agentId: on.agentId,
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
    failures.push(e);
    return e.detail;
  }
  throw new Error('expected a failure');
}

let n = 0;
const message = () => ({ title: 'Code', text: `Your code is **${String(++n).padStart(6, '0')}**` });

describe('tokens', () => {
  it('fetches one token and reuses it, also for concurrent calls', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 20 }, () => c.sendMarkdown('demo-alice', message())));
    await c.findUserIdByMobile('13800000001');
    expect(sim.calls.token).toBe(1);
    expect(c.stats().tokenFetches).toBe(1);
    expect(c.stats().calls.asyncsend_v2).toEqual({ '0': 20 });
  });

  it('refetches once when the token expires mid-flight, and succeeds', async () => {
    const c = client();
    await c.sendMarkdown('demo-alice', message());
    sim.expireTokens();
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
    expect(sim.calls).toMatchObject({ token: 2, asyncsend_v2: 3 });
    expect(c.stats().calls.asyncsend_v2).toEqual({ '0': 2, '42001': 1 });
  });

  it('refreshes a short-lived token before it expires, on a shared clock', async () => {
    let clock = 1_700_000_000_000;
    const short = await startSimulator({ tokenTtlSeconds: 10, now: () => clock });
    try {
      const c = client({ now: () => clock }, short);
      await c.getUser('demo-alice');
      clock += 6_000;
      await c.getUser('demo-alice');
      clock += 6_000;
      await c.getUser('demo-alice');
      expect(short.calls).toMatchObject({ token: 3, user_get: 3 });
    } finally {
      await short.close();
    }
  });

  it('recovers once when its own clock lags and DingTalk says 42001', async () => {
    let clock = 1_700_000_000_000;
    const short = await startSimulator({ tokenTtlSeconds: 10, now: () => clock });
    try {
      const c = client({ now: () => 1_700_000_000_000 }, short);
      await c.getUser('demo-alice');
      clock += 11_000;
      await expect(c.getUser('demo-bob')).resolves.toMatchObject({ userId: 'demo-bob' });
      expect(short.calls).toMatchObject({ token: 2, user_get: 3 });
    } finally {
      await short.close();
    }
  });

  it('unwraps errcode 88 with sub_code 40014 and refetches once', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 88, subCode: 40014 });
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
    expect(sim.calls).toMatchObject({ token: 2, asyncsend_v2: 2 });
  });

  it('gives up with a token error when the refetched token is refused too', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 40014 }, 5);
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({
      upstream: 'token',
      errcode: 40014,
      retryable: false,
    });
    expect(sim.calls).toMatchObject({ token: 2, asyncsend_v2: 2 });
  });

  it('reports bad credentials from the token endpoint without retrying', async () => {
    const c = client({ appSecret: 'not-the-secret-0123' });
    const d = await failureOf(c.sendMarkdown('demo-alice', message()));
    expect(d).toMatchObject({ upstream: 'credentials', endpoint: 'token', retryable: false });
    expect(d.message).toMatch(/invalidClientIdOrSecret.*AppKey\/AppSecret/);
    expect(d.message).not.toContain('not-the-secret-0123');
    expect(sim.calls).toEqual({ token: 1 });
  });

  it('classifies a new-API 403 on the token endpoint', async () => {
    const c = client();
    sim.inject('token', {
      type: 'http',
      status: 403,
      body: { code: 'Forbidden.AccessDenied.IpNotInWhiteList', message: 'ip', requestid: 'r' },
    });
    expect(await failureOf(c.getUser('demo-alice'))).toMatchObject({
      upstream: 'ip_whitelist',
      errcode: 60020,
      endpoint: 'token',
    });
  });
});

describe('errcode classes', () => {
  it.each([
    [60011, 'permission', /address-book read permission/],
    [60020, 'ip_whitelist', /whitelist/],
    [50002, 'out_of_range', /visible range/],
    [40035, 'invalid_parameter', /AgentId/],
    [400002, 'invalid_parameter', /AgentId/],
    [40096, 'credentials', /AppSecret/],
    [90020, 'quota', /quota/],
    [45009, 'banned', /back off/],
    [33012, 'recipient', /userid/],
    [77777, 'unknown', /undocumented/],
  ])('errcode %d surfaces as %s, named, and is not retried', async (errcode, kind, hint) => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode }, 5);
    const d = await failureOf(c.sendMarkdown('demo-alice', message()));
    expect(d).toMatchObject({
      kind: 'upstream',
      upstream: kind,
      errcode,
      endpoint: 'asyncsend_v2',
      retryable: false,
    });
    expect(d.message).toContain('asyncsend_v2');
    expect(d.message).toContain(String(errcode));
    expect(d.message).toMatch(hint);
    expect(sim.calls.asyncsend_v2).toBe(1);
  });

  it('errcode 88 is classified by its sub_code', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 88, subCode: 60011 });
    const d = await failureOf(c.sendMarkdown('demo-alice', message()));
    expect(d).toMatchObject({ upstream: 'permission', errcode: 60011 });
    expect(d.message).toMatch(/errcode 88\/sub_code 60011/);
  });

  it('retries a busy DingTalk and succeeds', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: -1 });
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
    expect(sim.calls.asyncsend_v2).toBe(2);
  });

  it('stops after maxAttempts when DingTalk stays busy', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: -1 }, 10);
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({
      upstream: 'busy',
      retryable: true,
    });
    expect(sim.calls.asyncsend_v2).toBe(3);
  });

  it('waits at least a second before retrying 90018', async () => {
    const delays: number[] = [];
    const c = client({ sleep: (ms, signal) => (delays.push(ms), realSleep(1, signal)) });
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 90018 });
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
    expect(sim.calls.asyncsend_v2).toBe(2);
  });

  it('backs off exponentially on 90002', async () => {
    const delays: number[] = [];
    const c = client({
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 10_000 },
      random: () => 0,
      sleep: (ms, signal) => (delays.push(ms), realSleep(1, signal)),
    });
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: 90002 }, 3);
    await c.sendMarkdown('demo-alice', message());
    expect(delays).toEqual([50, 100, 200]);
  });
});

describe('answers that are not DingTalk JSON', () => {
  it('an HTML ban page is banned and not retried', async () => {
    const c = client();
    sim.inject(
      'asyncsend_v2',
      { type: 'http', status: 200, body: '<html><body>访问被拒绝</body></html>', contentType: 'text/html' },
      5,
    );
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({
      upstream: 'banned',
      retryable: false,
    });
    expect(sim.calls.asyncsend_v2).toBe(1);
  });

  it('status 1111 is banned', async () => {
    const c = client();
    sim.inject('getbymobile', { type: 'http', status: 200, body: { status: 1111, wait: 5 } });
    expect(await failureOf(c.findUserIdByMobile('13800000001'))).toMatchObject({ upstream: 'banned' });
  });

  it('an empty 200 is a bad response', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'http', status: 200, body: '' });
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({
      upstream: 'bad_response',
      retryable: false,
    });
  });

  it('accepts numbers sent as strings', async () => {
    const c = client();
    sim.inject('user_get', {
      type: 'http',
      status: 200,
      body: { errcode: '0', errmsg: 'ok', result: { userid: 'demo-alice', name: 'Alice', active: true } },
    });
    await expect(c.getUser('demo-alice')).resolves.toEqual({
      userId: 'demo-alice',
      name: 'Alice',
      active: true,
    });
    sim.inject('user_get', { type: 'http', status: 200, body: { errcode: '60011', errmsg: 'no' } });
    expect(await failureOf(c.getUser('demo-alice'))).toMatchObject({
      upstream: 'permission',
      errcode: 60011,
    });
  });

  it('HTTP 502 is retried, then reported as a bad response', async () => {
    const c = client();
    sim.inject('asyncsend_v2', { type: 'http', status: 502, body: 'bad gateway' }, 5);
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({
      upstream: 'bad_response',
      retryable: true,
      message: expect.stringContaining('HTTP 502'),
    });
    expect(sim.calls.asyncsend_v2).toBe(3);
    sim.clearFaults();
    sim.inject('asyncsend_v2', { type: 'http', status: 502, body: 'bad gateway' }, 1);
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
  });
});

describe('connections', () => {
  it('bursts share a bounded keep-alive pool instead of opening a socket per call', async () => {
    const proxy = await freezableProxy(sim.port);
    try {
      const url = `http://127.0.0.1:${proxy.port}`;
      const c = client({ apiUrl: url, oapiUrl: url, maxConnections: 3 });
      const burst = () =>
        Promise.all(Array.from({ length: 40 }, () => c.findUserIdByUnionId('union-demo-bob')));
      expect(new Set(await burst())).toEqual(new Set(['demo-bob']));
      expect(proxy.accepted()).toBeLessThanOrEqual(3);
      const opened = proxy.accepted();
      await burst();
      expect(proxy.accepted()).toBe(opened);
      expect(sim.calls.getbyunionid).toBe(80);
    } finally {
      proxy.close();
    }
  });

  it('a call waiting for a busy connection still ends at its deadline', async () => {
    const c = client({ maxConnections: 1, timeoutMs: 300, retry: { maxAttempts: 1 } });
    await c.findUserIdByUnionId('union-demo-bob'); // the token, fetched before the pool is busy
    sim.inject('asyncsend_v2', { type: 'delay', ms: 3000 });
    const started = Date.now();
    const [slow, queued] = await Promise.all([
      failureOf(c.sendMarkdown('demo-alice', message())),
      failureOf(c.findUserIdByUnionId('union-demo-bob')),
    ]);
    expect(slow).toMatchObject({ upstream: 'transport', message: expect.stringMatching(/within 300 ms/) });
    expect(queued).toMatchObject({ upstream: 'transport', endpoint: 'getbyunionid' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('time limits and cancellation', () => {
  it('a slow answer becomes a transport error within about the timeout', async () => {
    const c = client({ timeoutMs: 150, retry: { maxAttempts: 1 } });
    sim.inject('asyncsend_v2', { type: 'delay', ms: 3000 });
    const started = Date.now();
    const d = await failureOf(c.sendMarkdown('demo-alice', message()));
    expect(d).toMatchObject({
      upstream: 'transport',
      retryable: true,
      message: expect.stringMatching(/within 150 ms/),
    });
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('retries after a timeout and succeeds', async () => {
    const c = client({ timeoutMs: 150 });
    sim.inject('asyncsend_v2', { type: 'delay', ms: 3000 });
    await expect(c.sendMarkdown('demo-alice', message())).resolves.toHaveProperty('taskId');
    expect(sim.calls.asyncsend_v2).toBe(2);
  });

  it('a trickling body is cut at the deadline', async () => {
    const c = client({ timeoutMs: 300, retry: { maxAttempts: 1 } });
    sim.inject('asyncsend_v2', { type: 'trickle', chunkDelayMs: 50 });
    const started = Date.now();
    expect(await failureOf(c.sendMarkdown('demo-alice', message()))).toMatchObject({ upstream: 'transport' });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("the caller's abort ends the call as cancelled", async () => {
    const c = client({ timeoutMs: 5000 });
    sim.inject('asyncsend_v2', { type: 'delay', ms: 3000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const started = Date.now();
    expect(await failureOf(c.sendMarkdown('demo-alice', message(), ac.signal))).toMatchObject({
      kind: 'cancelled',
    });
    expect(Date.now() - started).toBeLessThan(700);
  });

  it('an abort during the backoff ends the wait at once', async () => {
    const c = client({ retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    sim.inject('asyncsend_v2', { type: 'errcode', errcode: -1 }, 5);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    expect(await failureOf(c.sendMarkdown('demo-alice', message(), ac.signal))).toMatchObject({
      kind: 'cancelled',
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sim.calls.asyncsend_v2).toBe(1);
  });

  it('an already aborted signal sends nothing', async () => {
    const c = client();
    expect(await failureOf(c.getUser('demo-alice', AbortSignal.abort()))).toMatchObject({
      kind: 'cancelled',
    });
    expect(sim.calls).toEqual({});
  });

  it('a reset connection is a retryable transport error', async () => {
    const c = client();
    sim.inject('getbyunionid', { type: 'reset' });
    await expect(c.findUserIdByUnionId('union-demo-bob')).resolves.toBe('demo-bob');
    expect(sim.calls.getbyunionid).toBe(2);
    sim.inject('getbyunionid', { type: 'reset' }, 5);
    const d = await failureOf(c.findUserIdByUnionId('union-demo-bob'));
    expect(d).toMatchObject({
      upstream: 'transport',
      retryable: true,
      message: expect.stringContaining('ECONNRESET'),
    });
    // The network error is kept; axios's wrapper (whose config holds the token) is not.
    expect(failures.at(-1)!.cause).toMatchObject({ code: 'ECONNRESET' });
    expect(failures.at(-1)!.cause).not.toHaveProperty('config');
    expect(c.stats().calls.getbyunionid).toEqual({ '0': 1, transport: 4 });
  });
});

describe('sending', () => {
  it('rejects a message over 2048 bytes before sending', async () => {
    const c = client();
    const d = await failureOf(c.sendMarkdown('demo-alice', { title: '验证码', text: '码'.repeat(700) }));
    expect(d).toMatchObject({ upstream: 'invalid_parameter', endpoint: 'asyncsend_v2', retryable: false });
    expect(d.message).toMatch(/2048/);
    expect(sim.calls).toEqual({});
  });

  it('rejects a userid that would address several users', async () => {
    const c = client();
    expect(await failureOf(c.sendMarkdown('demo-alice,demo-bob', message()))).toMatchObject({
      upstream: 'invalid_parameter',
    });
    expect(sim.calls).toEqual({});
  });

  it('delivers to the inbox and reports unread', async () => {
    const c = client();
    const m = message();
    const { taskId } = await c.sendMarkdown('demo-bob', m);
    expect(sim.inbox.at(-1)).toMatchObject({ taskId, userid: 'demo-bob', title: m.title, text: m.text });
    expect(await c.getSendResult(taskId)).toEqual({
      read: [],
      unread: ['demo-bob'],
      invalid: [],
      forbidden: [],
      failed: [],
      forbiddenList: [],
    });
  });

  it('the same content twice a day is silently dropped with 143106', async () => {
    const c = client();
    const m = message();
    await c.sendMarkdown('demo-alice', m);
    const { taskId } = await c.sendMarkdown('demo-alice', m);
    expect(await c.getSendResult(taskId)).toMatchObject({
      unread: [],
      forbidden: ['demo-alice'],
      forbiddenList: [{ code: 143106, count: 1, userid: 'demo-alice' }],
    });
    expect(sim.inbox).toHaveLength(1);
  });

  it('a user outside the visible range is accepted but forbidden; unknown and former users are invalid', async () => {
    const c = client();
    const outsider = await c.sendMarkdown('demo-outsider', message());
    expect(await c.getSendResult(outsider.taskId)).toMatchObject({
      forbidden: ['demo-outsider'],
      forbiddenList: [],
    });
    const nobody = await c.sendMarkdown('nobody', message());
    expect(await c.getSendResult(nobody.taskId)).toMatchObject({ invalid: ['nobody'] });
    const former = await c.sendMarkdown('demo-former', message());
    expect(await c.getSendResult(former.taskId)).toMatchObject({ invalid: ['demo-former'] });
    expect(sim.inbox).toHaveLength(0);
  });

  it('an unknown task id is an invalid parameter', async () => {
    const c = client();
    expect(await failureOf(c.getSendResult('123'))).toMatchObject({
      upstream: 'invalid_parameter',
      errcode: 400002,
    });
    expect(await failureOf(c.getSendResult('not-a-task'))).toMatchObject({
      upstream: 'invalid_parameter',
      errcode: 0,
    });
  });
});

describe('look-ups', () => {
  it('finds a user by mobile, unionid and userid', async () => {
    const c = client();
    await expect(c.findUserIdByMobile('13800000001')).resolves.toBe('demo-alice');
    await expect(c.findUserIdByUnionId('union-demo-alice')).resolves.toBe('demo-alice');
    await expect(c.getUser('demo-alice')).resolves.toEqual({
      userId: 'demo-alice',
      name: 'Alice',
      active: true,
    });
  });

  it('returns undefined when DingTalk has no such user', async () => {
    const c = client();
    await expect(c.findUserIdByMobile('13999999999')).resolves.toBeUndefined();
    await expect(c.findUserIdByMobile('13800000005')).resolves.toBeUndefined();
    await expect(c.findUserIdByUnionId('union-nobody')).resolves.toBeUndefined();
    await expect(c.getUser('nobody')).resolves.toBeUndefined();
    expect(sim.calls).toMatchObject({ getbymobile: 2, getbyunionid: 1, user_get: 1 });
  });

  it('reports a former employee as inactive', async () => {
    await expect(client().getUser('demo-former')).resolves.toEqual({
      userId: 'demo-former',
      name: 'Fiona Former',
      active: false,
    });
  });

  it('an invalid mobile is a recipient error, not "not found"', async () => {
    const c = client();
    const d = await failureOf(c.findUserIdByMobile('12-34'));
    expect(d).toMatchObject({
      upstream: 'recipient',
      errcode: 40104,
      endpoint: 'getbymobile',
      retryable: false,
    });
    expect(sim.calls.getbymobile).toBe(1);
  });
});

it('no secret, token or mobile number appears in any failure or log line', async () => {
  // Provoke one more of each kind that carries a cause, then inspect everything seen so far.
  const c = client();
  sim.inject('getbymobile', { type: 'reset' }, 5);
  await failureOf(c.findUserIdByMobile('13800000001'));
  sim.inject('getbymobile', { type: 'errcode', errcode: 77777 });
  await failureOf(c.findUserIdByMobile('13800000001'));
  expect(failures.length).toBeGreaterThan(30);
  const secrets = [sim.appSecret, 'not-the-secret-0123', ...sim.issuedTokens(), ...MOBILES];
  expect(sim.issuedTokens().length).toBeGreaterThan(0);
  const said = [
    ...failures.map((f) => `${f.message}\n${inspect(f, { depth: 8 })}\n${JSON.stringify(f.detail)}`),
    ...logLines,
  ].join('\n');
  for (const secret of secrets) expect(said).not.toContain(secret);
});
