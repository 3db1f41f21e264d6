import { status } from '@grpc/grpc-js';
import { request } from 'node:http';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { DeliveryStatus, VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';
import { rpcError } from '../helpers/grpc-client';
import { redisAvailability, startRedis, type RedisHandle } from '../helpers/redis-server';

/**
 * The Prometheus exposition on METRICS_ADDRESS, scraped over HTTP after real RPCs
 * against the sandbox's DingTalk simulator.
 */

/** One parsed sample: metric name, labels, value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[k] = v;
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** One HTTP request on its own connection (no keep-alive socket outlives the test). */
function get(url: string, method = 'GET'): Promise<{ status: number; contentType: string; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', text }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function scrape(url: string): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  const res = await get(url);
  expect(res.status).toBe(200);
  return { text: res.text, samples: parseExposition(res.text), contentType: res.contentType };
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

const LOGIN = Scenario.SCENARIO_LOGIN;

describe('metrics on METRICS_ADDRESS (sandbox, in-memory store)', () => {
  let gw: TestGateway;
  let url: string;
  let sentCode: string;

  beforeAll(async () => {
    gw = await startGateway({ METRICS_ADDRESS: '127.0.0.1:0' });
    url = gw.app.metricsUrl!;

    // A code sent and verified: one wrong guess, then the right code.
    await gw.verification.sendCode({
      userId: 'alice',
      scenario: LOGIN,
      dingtalkUserId: '',
      mobile: '',
      locale: '',
    });
    sentCode = latestCode(gw, 'demo-alice');
    const wrong = sentCode === '000000' ? '000001' : '000000';
    expect((await gw.verification.verifyCode({ userId: 'alice', scenario: LOGIN, code: wrong })).result).toBe(
      VerifyResult.VERIFY_RESULT_WRONG_CODE,
    );
    expect(
      (await gw.verification.verifyCode({ userId: 'alice', scenario: LOGIN, code: sentCode })).result,
    ).toBe(VerifyResult.VERIFY_RESULT_APPROVED);

    // Refused by the resend cooldown.
    const cooldown = await rpcError(
      gw.verification.sendCode({
        userId: 'alice',
        scenario: LOGIN,
        dingtalkUserId: '',
        mobile: '',
        locale: '',
      }),
    );
    expect(cooldown.code).toBe(status.RESOURCE_EXHAUSTED);

    // DingTalk refuses the send: the caller IP is not whitelisted (errcode 60020).
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: 60020 });
    const refused = await rpcError(
      gw.verification.sendCode({
        userId: 'bob',
        scenario: Scenario.SCENARIO_TWO_FACTOR,
        dingtalkUserId: '',
        mobile: '',
        locale: '',
      }),
    );
    expect(refused.code).toBe(status.FAILED_PRECONDITION);

    // DingTalk rejects the cached token once (40014): the client fetches a new one and the send succeeds.
    gw.app.simulator!.inject('asyncsend_v2', { type: 'errcode', errcode: 40014 });
    await gw.verification.sendCode({
      userId: 'bob',
      scenario: Scenario.SCENARIO_PASSWORD_RESET,
      dingtalkUserId: '',
      mobile: '',
      locale: '',
    });

    // A send DingTalk accepted but dropped: the recipient is outside the app's visible range.
    await gw.app.store.putBinding({
      userId: 'outsider',
      dingtalkUserId: 'demo-outsider',
      source: 'dingtalk_user_id',
      boundAt: Date.now(),
    });
    const tested = await gw.verification.testScenario({
      scenario: Scenario.SCENARIO_RISK_WARNING,
      userId: 'outsider',
      locale: '',
    });
    expect(tested.deliveryStatus).toBe(DeliveryStatus.DELIVERY_STATUS_DROPPED);
  });
  afterAll(() => gw.stop());

  it('serves the Prometheus text format on /metrics only', async () => {
    const { contentType, samples } = await scrape(url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect((await get(url.replace(/\/metrics$/, '/other'))).status).toBe(404);
    expect((await get(url, 'POST')).status).toBe(404);
  });

  it('listens apart from the gRPC port', () => {
    const metricsPort = Number(new URL(url).port);
    expect(metricsPort).toBeGreaterThan(0);
    expect(metricsPort).not.toBe(gw.app.grpc.port);
  });

  it('counts RPCs by service/method and status, with latency by method', async () => {
    const { samples } = await scrape(url);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', { method: 'VerificationService/SendCode', code: 'OK' }),
    ).toBe(2);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', {
        method: 'VerificationService/SendCode',
        code: 'RESOURCE_EXHAUSTED',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', {
        method: 'VerificationService/SendCode',
        code: 'FAILED_PRECONDITION',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', { method: 'VerificationService/VerifyCode', code: 'OK' }),
    ).toBe(2);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', { method: 'VerificationService/TestScenario', code: 'OK' }),
    ).toBe(1);
    expect(
      valueOf(samples, 'dtg_rpc_duration_seconds_count', { method: 'VerificationService/SendCode' }),
    ).toBe(4);
    expect(
      valueOf(samples, 'dtg_rpc_duration_seconds_count', { method: 'VerificationService/VerifyCode' }),
    ).toBe(2);
    expect(
      valueOf(samples, 'dtg_rpc_duration_seconds_sum', { method: 'VerificationService/SendCode' }),
    ).toBeGreaterThan(0);
    expect(
      valueOf(samples, 'dtg_rpc_duration_seconds_bucket', {
        method: 'VerificationService/SendCode',
        le: '+Inf',
      }),
    ).toBe(4);
  });

  it('counts codes sent, refused, failed and verified by scenario and outcome', async () => {
    const { samples } = await scrape(url);
    const codes = (scenario: string, outcome: string) =>
      valueOf(samples, 'dtg_codes_total', { scenario, outcome });
    expect(codes('login', 'sent')).toBe(1);
    expect(codes('password_reset', 'sent')).toBe(1);
    expect(codes('login', 'wrong_code')).toBe(1);
    expect(codes('login', 'approve')).toBe(1);
    expect(codes('two_factor', 'send_failed')).toBe(1);
    const refused = samples.filter(
      (s) =>
        s.name === 'dtg_codes_total' &&
        s.labels.scenario === 'login' &&
        s.labels.outcome.startsWith('refused_'),
    );
    expect(refused.map((s) => s.value)).toEqual([1]);
  });

  it('counts DingTalk calls by endpoint and errcode, and token fetches', async () => {
    const { samples } = await scrape(url);
    const calls = (endpoint: string, errcode: string) =>
      valueOf(samples, 'dtg_dingtalk_requests_total', { endpoint, errcode });
    expect(calls('asyncsend_v2', '60020')).toBe(1);
    expect(calls('asyncsend_v2', '40014')).toBe(1);
    expect(calls('asyncsend_v2', '0')).toBe(3);
    expect(calls('getsendresult', '0')).toBeGreaterThanOrEqual(1);
    // The first token, plus the refetch after DingTalk rejected it.
    expect(valueOf(samples, 'dtg_dingtalk_token_fetches_total')).toBe(2);
    expect(calls('token', '0')).toBe(2);
  });

  it('counts deliveries DingTalk accepted but dropped', async () => {
    const { samples } = await scrape(url);
    expect(valueOf(samples, 'dtg_deliveries_total', { scenario: 'risk_warning', status: 'dropped' })).toBe(1);
  });

  it('counts failed calls by kind and reports the store up', async () => {
    const { samples } = await scrape(url);
    // DingTalk's refusal by class (the errcode itself is in dtg_dingtalk_requests_total) and the cooldown.
    expect(valueOf(samples, 'dtg_failures_total', { kind: 'upstream_ip_whitelist' })).toBe(1);
    expect(valueOf(samples, 'dtg_failures_total', { kind: 'rate_limited' })).toBe(1);
    expect(valueOf(samples, 'dtg_store_up')).toBe(1);
  });

  it('carries no user id, DingTalk userid or code', async () => {
    const { text, samples } = await scrape(url);
    for (const secret of ['alice', 'bob', 'outsider', 'demo-alice']) expect(text).not.toContain(secret);
    const ours = samples.filter((s) => s.name.startsWith('dtg_'));
    expect(ours.length).toBeGreaterThan(10);
    for (const s of ours) expect(Object.values(s.labels)).not.toContain(sentCode);
  });
});

const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the store-error metrics test: ${why}`);

describeWithRedis('store error metrics (Redis outage)', () => {
  let redis: RedisHandle;
  let gw: TestGateway;
  beforeAll(async () => {
    redis = await startRedis({ throwaway: true });
    gw = await startGateway({
      METRICS_ADDRESS: '127.0.0.1:0',
      STORE_URL: redis.url,
      STORE_PROBE_INTERVAL_MS: '100',
    });
  });
  afterAll(async () => {
    await gw?.stop();
    await redis?.close();
  });

  it('counts store errors, and dtg_store_up is 0 while the store is down and 1 once it is back', async () => {
    await redis.stop();
    const err = await rpcError(
      gw.verification.verifyCode({ userId: 'alice', scenario: LOGIN, code: '123456' }),
    );
    expect(err.code).toBe(status.UNAVAILABLE);
    let samples: Sample[] = [];
    for (let i = 0; i < 50; i++) {
      samples = (await scrape(gw.app.metricsUrl!)).samples;
      if (valueOf(samples, 'dtg_store_up') === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(valueOf(samples, 'dtg_store_up')).toBe(0);
    expect(valueOf(samples, 'dtg_failures_total', { kind: 'store_unavailable' })).toBe(1);
    expect(
      valueOf(samples, 'dtg_rpc_requests_total', {
        method: 'VerificationService/VerifyCode',
        code: 'UNAVAILABLE',
      }),
    ).toBe(1);

    await redis.restart();
    for (let i = 0; i < 50; i++) {
      samples = (await scrape(gw.app.metricsUrl!)).samples;
      if (valueOf(samples, 'dtg_store_up') === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(valueOf(samples, 'dtg_store_up')).toBe(1);
  });
});

describe('abuse metrics: limit refusals by kind, lockouts by scenario', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ METRICS_ADDRESS: '127.0.0.1:0', CODE_MAX_FAILURES: '2' });
  });
  afterAll(() => gw.stop());
  const refusals = (samples: Sample[], kind: string) =>
    valueOf(samples, 'dtg_limit_refusals_total', { kind });

  it('exposes every kind and scenario at 0 before anything happened', async () => {
    const { samples } = await scrape(gw.app.metricsUrl!);
    for (const kind of ['cooldown', 'quota', 'client_ip', 'user_day', 'since_success', 'lockout'])
      expect(refusals(samples, kind)).toBe(0);
    for (const scenario of ['login', 'password_recovery', 'two_factor', 'password_reset', 'risk_warning'])
      expect(valueOf(samples, 'dtg_lockouts_total', { scenario })).toBe(0);
  });

  it('counts a cooldown refusal, a lockout and what the lockout then refuses', async () => {
    const send = () => gw.verification.sendCode({ userId: 'alice', scenario: LOGIN });
    await send();
    expect((await rpcError(send())).code).toBe(status.RESOURCE_EXHAUSTED);
    const code = latestCode(gw, 'demo-alice');
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 3; i++)
      await gw.verification.verifyCode({ userId: 'alice', scenario: LOGIN, code: wrong });
    const { samples } = await scrape(gw.app.metricsUrl!);
    expect(refusals(samples, 'cooldown')).toBe(1);
    expect(valueOf(samples, 'dtg_lockouts_total', { scenario: 'login' })).toBe(1);
    expect(valueOf(samples, 'dtg_lockouts_total', { scenario: 'two_factor' })).toBe(0);
    expect(refusals(samples, 'lockout')).toBeGreaterThanOrEqual(1);
  });
});
