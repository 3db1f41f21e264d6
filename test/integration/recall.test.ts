import type { Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import {
  ConfigSettings,
  RecallReason,
  SettingSource,
  VerifyResult,
  type SendCodeResponse,
} from '../../src/gen/dingtalk/gateway/v1/verification';
import { startGateway, type TestGateway } from '../helpers/gateway';

/**
 * A code's work notification is recalled from the user's chat once the code is approved,
 * replaced, locked or expired: exactly one recall per message, through the simulator as
 * DingTalk, in the background (VerifyCode's answers are what they always were).
 */
const ADMIN = 'admin-token-0123456789abcdef';
const asAdmin = { metadata: { authorization: `Bearer ${ADMIN}` } };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('recalling codes that are done with', () => {
  let gw: TestGateway;
  let sim: Simulator;
  let n = 0;
  beforeAll(async () => {
    gw = await startGateway(
      { RECALL_POLL_MS: '20', DELIVERY_FOLLOW_UP_MS: '0', ADMIN_TOKEN: ADMIN, CONFIG_FILE: '/cfg.yaml' },
      { '/cfg.yaml': 'scenarios:\n  risk_warning:\n    recall: false\n' },
    );
    sim = gw.app.simulator!;
  });
  afterAll(() => gw.stop());
  afterEach(() => sim.clearFaults());

  const send = (userId: string, scenario = Scenario.SCENARIO_LOGIN) =>
    gw.verification.sendCode({ userId, scenario, dingtalkUserId: 'demo-alice' });
  const verify = (userId: string, code: string, scenario = Scenario.SCENARIO_LOGIN) =>
    gw.verification.verifyCode({ userId, scenario, code });
  const codeOf = (sent: SendCodeResponse) => {
    const m = sim.inbox.find((x) => x.taskId === sent.taskId);
    return /\*\*(\d+)\*\*/.exec(m!.text)![1];
  };
  const wrongFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  const recallsOf = (sent: SendCodeResponse) => sim.recalls.filter((t) => t === sent.taskId).length;
  const recalled = (sent: SendCodeResponse) => sim.inbox.find((m) => m.taskId === sent.taskId)!.recalled;
  const audits = (event: string, sent: SendCodeResponse) =>
    gw.logs.filter((l) => l.audit === event && l.verificationId === sent.verificationId);
  /** Waits (bounded) until `done` holds, running `tick` between looks. */
  const until = async (done: () => boolean, tick: () => void = () => undefined) => {
    for (let i = 0; i < 250 && !done(); i++) {
      tick();
      await sleep(20);
    }
    return done();
  };
  const recalledOnce = async (sent: SendCodeResponse) => {
    expect(await until(() => recallsOf(sent) > 0)).toBe(true);
    // The simulator has the recall before the gateway has its answer, audits and records it.
    for (let i = 0; i < 250 && !(await gw.app.store.getDelivery(sent.verificationId))?.recalledAt; i++)
      await sleep(20);
    await sleep(150); // several polls more: nobody recalls it again
    expect(recallsOf(sent)).toBe(1);
    expect(recalled(sent)).toBe(true);
  };
  const user = () => `rc-${++n}`;

  it('recalls an approved code once, and GetDelivery says when and why', async () => {
    const u = user();
    const sent = await send(u);
    expect(recalled(sent)).toBe(false);
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    await recalledOnce(sent);
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_ALREADY_USED);
    const d = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(d.recallReason).toBe(RecallReason.RECALL_REASON_APPROVED);
    expect(d.recalledAt!.getTime()).toBeGreaterThanOrEqual(d.sentAt!.getTime());
    expect(audits('code.recalled', sent)).toEqual([
      expect.objectContaining({ taskId: sent.taskId, reason: 'approved', attempts: 1, scenario: 'login' }),
    ]);
  });

  it('recalls the older code when a newer one replaces it, and only that one', async () => {
    const u = user();
    const first = await send(u);
    gw.advance(61_000); // past the resend cooldown
    const second = await send(u);
    await recalledOnce(first);
    expect(recallsOf(second)).toBe(0);
    const d = await gw.verification.getDelivery({ verificationId: first.verificationId });
    expect(d.recallReason).toBe(RecallReason.RECALL_REASON_REPLACED);
    expect((await verify(u, codeOf(second))).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    await recalledOnce(second);
  });

  it('recalls a code locked by too many wrong attempts, at the attempt that locks it', async () => {
    const u = user();
    const sent = await send(u);
    const wrong = wrongFor(codeOf(sent));
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await verify(u, wrong));
    expect(answers.map((a) => a.attemptsRemaining)).toEqual([4, 3, 2, 1]);
    expect(recallsOf(sent)).toBe(0);
    const locking = await verify(u, wrong);
    expect(locking).toMatchObject({ result: VerifyResult.VERIFY_RESULT_WRONG_CODE, attemptsRemaining: 0 });
    await recalledOnce(sent);
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS);
    await sleep(100);
    expect(recallsOf(sent)).toBe(1);
    const d = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(d.recallReason).toBe(RecallReason.RECALL_REASON_LOCKED);
  });

  it('recalls an expired code at its expiry, and VerifyCode still says expired', async () => {
    const u = user();
    const sent = await send(u);
    await sleep(100);
    expect(recallsOf(sent)).toBe(0);
    gw.advance(300_000); // the code's lifetime
    await recalledOnce(sent);
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_EXPIRED);
    const d = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(d.recallReason).toBe(RecallReason.RECALL_REASON_EXPIRED);
  });

  it('retries a recall DingTalk fails, then succeeds with exactly one recall reaching it', async () => {
    const u = user();
    const sent = await send(u);
    // One attempt's worth: the client itself tries three times on "system busy".
    sim.inject('recall', { type: 'errcode', errcode: -1 }, 3);
    const callsBefore = sim.calls.recall ?? 0;
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(await until(() => audits('code.recall_retry', sent).length === 1)).toBe(true);
    // The retry waits 5 s on the gateway's clock.
    expect(
      await until(
        () => recallsOf(sent) === 1,
        () => gw.advance(1_000),
      ),
    ).toBe(true);
    expect((sim.calls.recall ?? 0) - callsBefore).toBe(4);
    // The simulator has the recall before the gateway has its answer and writes the audit line.
    expect(await until(() => audits('code.recalled', sent).length > 0)).toBe(true);
    expect(audits('code.recalled', sent)).toEqual([expect.objectContaining({ attempts: 2 })]);
  });

  it('gives up after three failed attempts, counts it, and VerifyCode never notices', async () => {
    const u = user();
    const sent = await send(u);
    sim.inject('recall', { type: 'http', status: 502, body: 'Bad Gateway' }, 9);
    const callsBefore = sim.calls.recall ?? 0;
    const started = Date.now();
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(Date.now() - started).toBeLessThan(200);
    const failed = () => audits('code.recall_failed', sent).length === 1;
    expect(await until(failed, () => gw.advance(5_000))).toBe(true);
    expect((sim.calls.recall ?? 0) - callsBefore).toBe(9);
    expect(audits('code.recall_retry', sent)).toHaveLength(2);
    expect(audits('code.recall_failed', sent)[0]).toMatchObject({ attempts: 3, error: 'bad_response' });
    expect(recallsOf(sent)).toBe(0);
    expect(recalled(sent)).toBe(false);
    const d = await gw.verification.getDelivery({ verificationId: sent.verificationId });
    expect(d.recalledAt).toBeUndefined();
    expect(d.recallReason).toBe(RecallReason.RECALL_REASON_UNSPECIFIED);
    const metric = await gw.app.metrics.registry.getSingleMetricAsString('dtg_recalls_total');
    expect(metric).toMatch(/dtg_recalls_total\{outcome="failed"\} 1\b/);
    expect(metric).toMatch(/dtg_recalls_total\{outcome="recalled"\} [1-9]/);
  });

  it('does not retry a recall DingTalk refuses (too late, already recalled)', async () => {
    const u = user();
    const sent = await send(u);
    sim.inject('recall', { type: 'errcode', errcode: 400002 }, 1);
    const callsBefore = sim.calls.recall ?? 0;
    expect((await verify(u, codeOf(sent))).result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
    expect(await until(() => audits('code.recall_failed', sent).length === 1)).toBe(true);
    gw.advance(60_000);
    await sleep(150);
    expect((sim.calls.recall ?? 0) - callsBefore).toBe(1);
    expect(audits('code.recall_failed', sent)[0]).toMatchObject({ attempts: 1, error: 'invalid_parameter' });
  });

  it('leaves the messages of a scenario with recall switched off (file) in the chat', async () => {
    const config = await gw.verification.getConfig({});
    const risk = config.scenarios.find((s) => s.scenario === Scenario.SCENARIO_RISK_WARNING)!;
    expect(risk.recall).toBe(false);
    expect(config.sources['scenarios.risk_warning.recall']).toBe(SettingSource.SETTING_SOURCE_FILE);
    expect(config.scenarios.find((s) => s.scenario === Scenario.SCENARIO_LOGIN)!.recall).toBe(true);

    const u = user();
    const approved = await send(u, Scenario.SCENARIO_RISK_WARNING);
    expect((await verify(u, codeOf(approved), Scenario.SCENARIO_RISK_WARNING)).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    const v = user();
    const expired = await send(v, Scenario.SCENARIO_RISK_WARNING);
    gw.advance(300_000);
    await sleep(200);
    expect(recallsOf(approved) + recallsOf(expired)).toBe(0);
    const d = await gw.verification.getDelivery({ verificationId: approved.verificationId });
    expect(d.recalledAt).toBeUndefined();
  });

  it('follows a switch changed at run time: codes sent while it is off are not recalled', async () => {
    const c = await gw.verification.getConfig({});
    const off = await gw.verification.updateConfig(
      {
        version: c.version,
        updateMask: ['scenarios.two_factor.recall'],
        settings: ConfigSettings.fromPartial({
          scenarios: [{ scenario: Scenario.SCENARIO_TWO_FACTOR, recall: false }],
        }),
      },
      asAdmin,
    );
    expect(off.config!.sources['scenarios.two_factor.recall']).toBe(SettingSource.SETTING_SOURCE_RUNTIME);
    const u = user();
    const sent = await send(u, Scenario.SCENARIO_TWO_FACTOR);
    expect((await verify(u, codeOf(sent), Scenario.SCENARIO_TWO_FACTOR)).result).toBe(
      VerifyResult.VERIFY_RESULT_APPROVED,
    );
    await sleep(150);
    expect(recallsOf(sent)).toBe(0);

    await gw.verification.updateConfig(
      { version: off.config!.version, revertMask: ['scenarios.two_factor.recall'] },
      asAdmin,
    );
    const again = await send(user(), Scenario.SCENARIO_TWO_FACTOR);
    gw.advance(300_000);
    await recalledOnce(again);
  });
});
