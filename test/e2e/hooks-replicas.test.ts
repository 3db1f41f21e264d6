import { randomInt } from 'node:crypto';
import type { Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { newToken, newWebhookSecret, post, standardWebhookHeaders } from '../helpers/hooks';
import { redisAvailability } from '../helpers/redis-server';
import { startReplicas, type Replicas, type Sidecar } from '../helpers/sidecar';

/**
 * Two gateway processes on one Redis, as two replicas behind a load balancer: a webhook
 * delivered to both, a retried body, a DeliverCode idempotency key used on both, each make
 * one message; a number looked up through one is not looked up again through the other.
 */
const why = redisAvailability({ throwaway: true });
const describeWithRedis = why ? describe.skip : describe;
if (why) console.warn(`skipping the two-replica hook tests: ${why}`);

describeWithRedis('hooks on two replicas sharing one Redis', () => {
  let sim: Simulator;
  let a: Sidecar;
  let b: Sidecar;
  let replicas: Replicas;
  const supabaseSecret = newWebhookSecret();
  const logtoToken = newToken();
  const hooksOf = (s: Sidecar) => /hooks served at (http:\/\/127\.0\.0\.1:\d+)\/hooks\//.exec(s.output())![1];
  const codes: string[] = [];
  const code = () => {
    codes.push(String(randomInt(100_000, 1_000_000)));
    return codes[codes.length - 1];
  };
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    replicas = await startReplicas({
      HOOK_SUPABASE_SECRET: supabaseSecret,
      HOOK_LOGTO_TOKEN: logtoToken,
      CODE_RESEND_INTERVAL_SECONDS: '0',
    });
    ({ sim, a, b } = replicas);
  }, 60_000);

  afterAll(async () => {
    await replicas?.stop();
  });

  it('one Supabase webhook delivered to both replicas at once sends one message; both answer success', async () => {
    const otp = code();
    const body = JSON.stringify({
      metadata: { uuid: 'a8d2c0a4-7c55-4a51-a7a4-2d9a0c1e9f10', name: 'send-sms', ip_address: '203.0.113.9' },
      user: { id: '0d9f6a51-1b57-4a7e-9d1c-5f2e3a4b6c7d', phone: '8613800000002' },
      sms: { otp, sms_type: 'mfa' },
    });
    const headers = { ...json, ...standardWebhookHeaders(supabaseSecret, body) };
    const before = sim.inbox.length;
    const answers = await Promise.all(
      [a, b, a, b].map((s) => post(`${hooksOf(s)}/hooks/supabase`, body, headers)),
    );
    expect(answers.map((x) => [x.status, x.text])).toEqual(Array(4).fill([200, '{}']));
    expect(sim.inbox.slice(before).map((m) => [m.userid, m.text.includes(otp)])).toEqual([
      ['demo-bob', true],
    ]);
  });

  it('a Logto request retried through the other replica sends no second message', async () => {
    const body = JSON.stringify({ to: '+8613800000001', type: 'SignIn', payload: { code: code() } });
    const headers = { ...json, authorization: `Bearer ${logtoToken}` };
    const before = sim.inbox.length;
    const first = await post(`${hooksOf(a)}/hooks/logto`, body, headers);
    const retry = await post(`${hooksOf(b)}/hooks/logto`, body, headers);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect((retry.json() as { replayed: boolean }).replayed).toBe(true);
    expect(sim.inbox.length - before).toBe(1);
  });

  it('DeliverCode with one idempotency key on both replicas sends once; the number is looked up once', async () => {
    const lookups = sim.calls.getbymobile ?? 0;
    const before = sim.inbox.length;
    const req = {
      mobile: '+8613800000003',
      scenario: Scenario.SCENARIO_LOGIN,
      code: code(),
      idempotencyKey: 'kc-replicas-1',
    };
    const [x, y] = await Promise.all([a.verification.deliverCode(req), b.verification.deliverCode(req)]);
    expect(x.deliveryId).toBe(y.deliveryId);
    expect(sim.inbox.length - before).toBe(1);
    // The other replica finds the number in the shared look-up cache.
    await b.verification.deliverCode({ ...req, code: code(), idempotencyKey: '' });
    await a.verification.deliverCode({ ...req, code: code(), idempotencyKey: '' });
    expect((sim.calls.getbymobile ?? 0) - lookups).toBe(1);
    expect(sim.inbox.length - before).toBe(3);
  });

  it("writes none of the codes, numbers or secrets to either process's output", () => {
    const output = a.output() + b.output();
    expect(output).toContain('"audit":"code.sent"');
    const secrets = [supabaseSecret, supabaseSecret.slice('v1,whsec_'.length), logtoToken];
    const numbers = ['13800000001', '13800000002', '13800000003'];
    for (const s of [...codes, ...secrets, ...numbers])
      expect({ leaked: output.includes(s) ? s : '' }).toEqual({ leaked: '' });
  });
});
