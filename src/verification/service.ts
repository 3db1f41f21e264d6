import type { Binding } from '../domain/binding';
import {
  codeMatches,
  digestCode,
  generateCode,
  generateVerificationId,
  judgeAttempt,
  type Judgement,
  type RandomBytes,
} from '../domain/code';
import { classifyDelivery, PENDING, type Delivery } from '../domain/delivery';
import { disabled, isGatewayFailure, notBound, rateLimited } from '../domain/errors';
import { HOUR_MS, sendRuleOf, type ScenarioPolicy } from '../domain/policy';
import type { ScenarioName } from '../domain/scenario';
import { pickLocale, renderMessage } from '../domain/template';
import * as check from '../domain/validation';
import { createDeliveryTracker } from './delivery';
import { createRecaller } from './recall';
import type { AuditSink, DingTalkPort, Markdown, SendSubject, Subject, VerificationStore } from './ports';

/** How long an expired code is kept so VerifyCode can say "expired" rather than "not found". */
export const EXPIRED_RETENTION_MS = 15 * 60_000;

/** What may change at run time: read at every use, never kept (see config/live.ts). */
export interface LivePolicies {
  enabled: boolean;
  defaultLocale: string;
  scenarios: Record<ScenarioName, ScenarioPolicy>;
}

export interface ServiceSettings {
  /** How long TestScenario polls DingTalk's send result before answering "pending". */
  deliveryCheckMs: number;
  deliveryPollMs?: number;
  /** Delay of the background read of DingTalk's send result after each SendCode; 0 = none. */
  deliveryFollowUpMs: number;
  /** Sends per end-user IP address per hour, over all users and scenarios; 0 = no limit. */
  maxSendsPerIpPerHour: number;
  /** How often this replica claims due recalls from the store; 0 or unset = no recall worker. */
  recallPollMs?: number;
}

export interface ServiceDeps {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  settings: ServiceSettings;
  /** The gateway switch, the scenarios' policies and templates in force now. */
  policies: () => LivePolicies;
  /** HMAC key for code digests, read at each use: a key shared through the store can be re-adopted. */
  secret: () => Buffer;
  now: () => number;
  random: RandomBytes;
  audit?: AuditSink;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface SendCodeInput {
  userId: string;
  scenario: ScenarioName;
  dingtalkUserId: string;
  mobile: string;
  locale: string;
  /** The end user's IP address, '' when the identity server did not pass it. */
  clientIp: string;
}

export type RecipientSource = 'explicit' | 'binding' | 'mobile';

export interface SendCodeOutput {
  verificationId: string;
  expiresAt: number;
  resendAfter: number;
  taskId: string;
  dingtalkUserId: string;
  recipientSource: RecipientSource;
}

export interface VerifyCodeInput {
  userId: string;
  scenario: ScenarioName;
  code: string;
}

export interface TestScenarioInput {
  userId: string;
  scenario: ScenarioName;
  locale: string;
}

export interface TestScenarioOutput extends Delivery {
  taskId: string;
  dingtalkUserId: string;
}

export type VerificationService = ReturnType<typeof createVerificationService>;

/**
 * The verification use cases over a store and DingTalk. Order of a send: validate,
 * check policy, resolve the recipient, reserve a send slot (cooldown and quota,
 * atomically), store the code's digest, and only then send; a failed send releases
 * the slot and discards the code, so nothing is reported sent that was not stored.
 */
export function createVerificationService(deps: ServiceDeps) {
  const { store, dingtalk, settings, policies, secret, now, random } = deps;
  const audit: AuditSink = deps.audit ?? (() => undefined);
  const sleep = deps.sleep ?? defaultSleep;
  const deliveries = createDeliveryTracker({
    store,
    dingtalk,
    now,
    audit,
    followUpMs: settings.deliveryFollowUpMs,
  });
  const recalls = createRecaller({
    store,
    dingtalk,
    now,
    audit,
    recallOn: (scenario) => policies().scenarios[scenario].recall,
    pollMs: settings.recallPollMs ?? 0,
  });

  function policyFor(scenario: ScenarioName, forSending: boolean): ScenarioPolicy {
    const live = policies();
    const policy = live.scenarios[scenario];
    if (forSending && !live.enabled) throw disabled('the DingTalk gateway is disabled');
    if (forSending && !policy.enabled) throw disabled(`scenario ${scenario} is disabled`);
    return policy;
  }

  async function resolveRecipient(
    input: { userId: string; dingtalkUserId: string; mobile: string },
    signal?: AbortSignal,
  ): Promise<{ dingtalkUserId: string; source: RecipientSource }> {
    if (input.dingtalkUserId) return { dingtalkUserId: input.dingtalkUserId, source: 'explicit' };
    const binding = await store.getBinding(input.userId);
    if (binding) return { dingtalkUserId: binding.dingtalkUserId, source: 'binding' };
    if (input.mobile) {
      const found = await dingtalk.findUserIdByMobile(input.mobile, signal);
      if (!found) throw notBound(input.userId);
      const created: Binding = {
        userId: input.userId,
        dingtalkUserId: found,
        source: 'mobile',
        boundAt: now(),
      };
      await store.putBinding(created);
      audit('binding.created', { userId: input.userId, dingtalkUserId: found, source: 'mobile' });
      return { dingtalkUserId: found, source: 'mobile' };
    }
    throw notBound(input.userId);
  }

  function compose(
    policy: ScenarioPolicy,
    locale: string | undefined,
    code: string,
    ref: string,
    test: boolean,
  ): Markdown {
    const chosen = pickLocale(Object.keys(policy.templates), locale, policies().defaultLocale);
    return renderMessage({
      template: policy.templates[chosen],
      locale: chosen,
      code,
      minutes: Math.ceil(policy.ttlSeconds / 60),
      ref,
      test,
    });
  }

  async function sendCode(raw: SendCodeInput, signal?: AbortSignal): Promise<SendCodeOutput> {
    const userId = check.userId(raw.userId);
    const dingtalkUserId = raw.dingtalkUserId ? check.dingtalkUserId(raw.dingtalkUserId) : '';
    const mobile = raw.mobile ? check.mobile(raw.mobile) : '';
    const locale = check.locale(raw.locale);
    const clientIp = check.clientIp(raw.clientIp);
    const policy = policyFor(raw.scenario, true);
    const subject: Subject = { userId, scenario: raw.scenario };

    const recipient = await resolveRecipient({ userId, dingtalkUserId, mobile }, signal);
    const at = now();
    const decision = await store.reserveSend(subject, sendRuleOf(policy), at);
    if (!decision.allowed) {
      const what =
        decision.reason === 'cooldown'
          ? `a code for ${raw.scenario} was sent to this user less than ${policy.resendIntervalSeconds} s ago`
          : `this user reached ${policy.maxSendsPerHour} codes per hour for ${raw.scenario}`;
      audit('code.refused', { userId, scenario: raw.scenario, reason: decision.reason });
      throw rateLimited(decision.retryAt - at, what);
    }
    // Reserved slots, released again if anything below fails.
    const reserved: SendSubject[] = [subject];
    const release = () => Promise.all(reserved.map((s) => bestEffort(() => store.releaseSend(s, at))));
    if (clientIp && settings.maxSendsPerIpPerHour > 0) {
      const ip: SendSubject = { userId: clientIp, scenario: 'client_ip' };
      const rule = { cooldownMs: 0, windowMs: HOUR_MS, maxInWindow: settings.maxSendsPerIpPerHour };
      const byIp = await store.reserveSend(ip, rule, at).catch(async (e: unknown) => {
        await release();
        throw e;
      });
      if (!byIp.allowed) {
        await release();
        audit('code.refused', { userId, scenario: raw.scenario, reason: 'client_ip' });
        throw rateLimited(
          byIp.retryAt - at,
          `this client address reached ${settings.maxSendsPerIpPerHour} codes per hour`,
        );
      }
      reserved.push(ip);
    }

    const id = generateVerificationId(random);
    const code = generateCode(policy.codeLength, random);
    const expiresAt = at + policy.ttlSeconds * 1000;
    try {
      await store.saveCode(
        subject,
        {
          id,
          digest: digestCode(secret(), id, code),
          recipient: recipient.dingtalkUserId,
          createdAt: at,
          expiresAt,
          maxAttempts: policy.maxAttempts,
        },
        policy.ttlSeconds * 1000 + EXPIRED_RETENTION_MS,
      );
    } catch (e) {
      await release();
      throw e;
    }
    let taskId: string;
    try {
      ({ taskId } = await dingtalk.sendMarkdown(
        recipient.dingtalkUserId,
        compose(policy, locale, code, id.slice(0, 8), false),
        signal,
      ));
    } catch (e) {
      await bestEffort(() => store.discardCode(subject, id));
      await release();
      audit('code.send_failed', { userId, scenario: raw.scenario, verificationId: id, error: errorKind(e) });
      throw e;
    }
    audit('code.sent', {
      userId,
      scenario: raw.scenario,
      verificationId: id,
      dingtalkUserId: recipient.dingtalkUserId,
      recipientSource: recipient.source,
      taskId,
    });
    // The code is sent and stored: failing to record its delivery or list its recall must not undo that.
    await Promise.all([
      deliveries
        .track({
          verificationId: id,
          taskId,
          userId,
          scenario: raw.scenario,
          dingtalkUserId: recipient.dingtalkUserId,
          sentAt: at,
          checkedAt: at,
          ...PENDING,
        })
        .catch((e: unknown) =>
          audit('code.delivery_unrecorded', { verificationId: id, taskId, error: errorKind(e) }),
        ),
      // Listed at the code's expiry; a newer code of this subject makes the older one due now.
      policy.recall &&
        recalls.schedule({
          verificationId: id,
          taskId,
          userId,
          scenario: raw.scenario,
          createdAt: at,
          sentAt: at,
          dueAt: expiresAt,
          reason: 'expired',
          attempts: 0,
        }),
    ]);
    return {
      verificationId: id,
      expiresAt,
      resendAfter: decision.resendAt,
      taskId,
      dingtalkUserId: recipient.dingtalkUserId,
      recipientSource: recipient.source,
    };
  }

  async function verifyCode(raw: VerifyCodeInput): Promise<Judgement> {
    const userId = check.userId(raw.userId);
    const policy = policyFor(raw.scenario, false);
    const code = check.code(raw.code, policy.codeLength);
    const subject: Subject = { userId, scenario: raw.scenario };
    // Counted before comparing: concurrent guesses can never exceed the limit.
    const snapshot = await store.countAttempt(subject);
    let judgement = judgeAttempt(snapshot, now(), (record) => codeMatches(secret(), record, code));
    if (judgement.result === 'approve' && !(await store.consumeCode(subject, judgement.id))) {
      judgement = { result: 'not_found' };
    }
    // In the background: the answer never waits for a recall. The attempt that uses up the
    // last try locks the code; later ones (too_many_attempts) find nothing more to do.
    if (policy.recall) {
      if (judgement.result === 'approve') recalls.expedite(judgement.id, raw.scenario, 'approved');
      else if (judgement.result === 'wrong_code' && judgement.attemptsRemaining === 0)
        recalls.expedite(judgement.id, raw.scenario, 'locked');
    }
    audit('code.verified', {
      userId,
      scenario: raw.scenario,
      result: judgement.result,
      verificationId: 'id' in judgement ? judgement.id : undefined, // left out of the line when undefined
    });
    return judgement;
  }

  async function testScenario(raw: TestScenarioInput, signal?: AbortSignal): Promise<TestScenarioOutput> {
    const userId = check.userId(raw.userId);
    const locale = check.locale(raw.locale);
    const policy = policyFor(raw.scenario, true);
    const binding = await store.getBinding(userId);
    if (!binding) throw notBound(userId);
    // The test code is drawn like a real one but never stored, so it cannot verify.
    const ref = generateVerificationId(random).slice(0, 8);
    const message = compose(policy, locale, generateCode(policy.codeLength, random), ref, true);
    const { taskId } = await dingtalk.sendMarkdown(binding.dingtalkUserId, message, signal);
    const delivery = await awaitDelivery(taskId, binding.dingtalkUserId, signal);
    audit('scenario.tested', {
      userId,
      scenario: raw.scenario,
      dingtalkUserId: binding.dingtalkUserId,
      taskId,
      delivery: delivery.status,
      dingtalkCode: delivery.code,
    });
    return { ...delivery, taskId, dingtalkUserId: binding.dingtalkUserId };
  }

  /** Polls getsendresult until the recipient shows up in a list or the check window closes. */
  async function awaitDelivery(taskId: string, userId: string, signal?: AbortSignal): Promise<Delivery> {
    const deadline = now() + settings.deliveryCheckMs;
    let delivery: Delivery = PENDING;
    for (;;) {
      try {
        delivery = classifyDelivery(await dingtalk.getSendResult(taskId, signal), userId);
      } catch (e) {
        if (!isGatewayFailure(e) || e.detail.kind === 'cancelled') throw e;
        return {
          status: 'pending',
          code: 0,
          detail: `sent, but the send result could not be read: ${e.message}`,
        };
      }
      if (delivery.status !== 'pending' || now() >= deadline) return delivery;
      await sleep(Math.min(settings.deliveryPollMs ?? 250, Math.max(0, deadline - now())), signal);
    }
  }

  return {
    sendCode,
    verifyCode,
    testScenario,
    getDelivery: deliveries.get,
    /** Stops background delivery reads and recalls (shutdown; recalls under way get up to 2 s). */
    async close(): Promise<void> {
      deliveries.close();
      await recalls.close();
    },
    policyFor: (s: ScenarioName) => policies().scenarios[s],
  };
}

async function bestEffort(op: () => Promise<void>): Promise<void> {
  try {
    await op();
  } catch {
    // The original error is what the caller needs; a stale reservation only delays the next send.
  }
}

const errorKind = (e: unknown): string => (isGatewayFailure(e) ? e.detail.kind : 'internal');

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
