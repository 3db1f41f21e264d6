import {
  codeMatchesAny,
  digestCode,
  generateCode,
  generateVerificationId,
  judgeAttempt,
  type Judgement,
  type RandomBytes,
} from '../domain/code';
import { classifyDelivery, PENDING, type Delivery } from '../domain/delivery';
import { disabled, isGatewayFailure, notBound, rateLimited } from '../domain/errors';
import { composeMessage } from '../domain/compose';
import { normaliseMobile } from '../domain/mobile';
import type { ScenarioPolicy } from '../domain/policy';
import type { ScenarioName } from '../domain/scenario';
import { DEFAULT_FAILURE_RULE, type FailureRule } from '../domain/lockout';
import * as check from '../domain/validation';
import { createUserBudget } from './budget';
import { createDeliveryTracker } from './delivery';
import { createIdempotency, idempotencyRef } from './idempotency';
import { createRecaller } from './recall';
import { createDeliverCode } from './deliver';
import { createDispatcher } from './dispatch';
import { createRecipientResolver, type RecipientSource } from './recipient';
import { createReserver } from './reserve';
import type { AuditSink, DingTalkPort, Markdown, Subject, VerificationStore } from './ports';

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
  /** Messages (codes and tests) per user in any rolling 24 hours over all scenarios; 0 = no limit. */
  maxSendsPerUserPerDay: number;
  /** Messages per user since their last approved code (within 24 hours); 0 = no limit. */
  maxSendsSinceSuccess: number;
  /** How often this replica claims due recalls from the store; 0 or unset = no recall worker. */
  recallPollMs?: number;
  /** How long a DingTalk user found by mobile is cached across replicas (DeliverCode's look-ups); 0 or unset = no cache. */
  mobileCacheMs?: number;
  /** Failed verifications per user and scenario, across codes, that lock it; DEFAULT_FAILURE_RULE when unset. */
  failureRule?: FailureRule;
}

export interface ServiceDeps {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  settings: ServiceSettings;
  /** The gateway switch, the scenarios' policies and templates in force now. */
  policies: () => LivePolicies;
  /** HMAC key for code digests, read at each use: a key shared through the store can be re-adopted. */
  secret: () => Buffer;
  /**
   * The keys a submitted code is checked under, the signing key first, then the previous one
   * while a rotation is under way (see code-secret.ts); `[secret()]` when unset.
   */
  acceptedSecrets?: () => readonly Buffer[];
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
  /** The caller's idempotency key; '' or absent: none (see idempotency.ts). */
  idempotencyKey?: string;
}

export type { RecipientSource } from './recipient';

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
  const acceptedSecrets = deps.acceptedSecrets ?? (() => [secret()]);
  const failureRule = settings.failureRule ?? DEFAULT_FAILURE_RULE;
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
  const budget = createUserBudget({
    store,
    audit,
    budget: { perDay: settings.maxSendsPerUserPerDay, sinceSuccess: settings.maxSendsSinceSuccess },
  });
  const idempotency = createIdempotency({ store, random, audit, sleep, now });
  // The steps every message with a code takes, SendCode's and DeliverCode's alike.
  const recipients = createRecipientResolver({
    store,
    dingtalk,
    now,
    audit,
    secret,
    mobileCacheMs: settings.mobileCacheMs ?? 0,
  });
  const reserver = createReserver({
    store,
    budget,
    audit,
    maxSendsPerIpPerHour: settings.maxSendsPerIpPerHour,
  });
  const dispatcher = createDispatcher({ dingtalk, deliveries, recalls, audit });
  // DeliverCode (deliver.ts): a code the caller made, through the same steps as SendCode's.
  const { deliverCode } = createDeliverCode({
    now,
    random,
    audit,
    policyFor: (scenario) => policyFor(scenario, true),
    defaultLocale: () => policies().defaultLocale,
    recipients,
    reserver,
    dispatcher,
    idempotency,
  });

  function policyFor(scenario: ScenarioName, forSending: boolean): ScenarioPolicy {
    const live = policies();
    const policy = live.scenarios[scenario];
    if (forSending && !live.enabled) throw disabled('the DingTalk gateway is disabled');
    if (forSending && !policy.enabled) throw disabled(`scenario ${scenario} is disabled`);
    return policy;
  }

  /** The scenario's template with a code of the scenario's TTL. */
  const compose = (
    policy: ScenarioPolicy,
    locale: string | undefined,
    code: string,
    ref: string,
    test: boolean,
  ): Markdown =>
    composeMessage(policy, policies().defaultLocale, {
      locale,
      code,
      minutes: Math.ceil(policy.ttlSeconds / 60),
      ref,
      test,
    });

  /**
   * SendCode. With an idempotency key, the first call's response answers every call with the
   * same key and request for 10 minutes, and concurrent duplicates send one message between them.
   */
  async function sendCode(raw: SendCodeInput, signal?: AbortSignal): Promise<SendCodeOutput> {
    const key = check.idempotencyKey(raw.idempotencyKey ?? '');
    if (key === '') return sendNewCode(raw, signal);
    const request = {
      operation: 'SendCode',
      key,
      // What decides the message; client_ip only limits, so a retry through another proxy still matches.
      fields: {
        userId: check.userId(raw.userId),
        scenario: raw.scenario,
        dingtalkUserId: raw.dingtalkUserId ? check.dingtalkUserId(raw.dingtalkUserId) : '',
        mobile: raw.mobile ? check.mobile(raw.mobile) : '',
        locale: check.locale(raw.locale) ?? '',
      },
    };
    const { value, replayed } = await idempotency.once(request, () => sendNewCode(raw, signal), signal);
    if (replayed)
      audit('code.replayed', {
        userId: request.fields.userId,
        scenario: raw.scenario,
        verificationId: value.verificationId,
        idempotencyRef: idempotencyRef(request.operation, key),
      });
    return value;
  }

  async function sendNewCode(raw: SendCodeInput, signal?: AbortSignal): Promise<SendCodeOutput> {
    const userId = check.userId(raw.userId);
    const dingtalkUserId = raw.dingtalkUserId ? check.dingtalkUserId(raw.dingtalkUserId) : '';
    const mobile = raw.mobile ? normaliseMobile(raw.mobile) : undefined;
    const locale = check.locale(raw.locale);
    const clientIp = check.clientIp(raw.clientIp);
    const policy = policyFor(raw.scenario, true);
    const subject: Subject = { userId, scenario: raw.scenario };
    await refuseWhileLocked(subject);

    const recipient = await recipients.resolve({ userId, dingtalkUserId, mobile }, signal);
    const at = now();
    // Reserved slots (the scenario's, the user's budget, the client address's), released again if anything below fails.
    const { resendAt, release } = await reserver.reserve(subject, policy, clientIp, at);

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
    // Sent, then recorded (delivery, recall at the code's expiry); a failed send discards the code.
    const { taskId } = await dispatcher.dispatch(
      {
        id,
        userId,
        scenario: raw.scenario,
        recipient,
        message: compose(policy, locale, code, id.slice(0, 8), false),
        at,
        recallAt: policy.recall ? expiresAt : undefined,
        undo: async () => {
          await bestEffort(() => store.discardCode(subject, id));
          await release();
        },
      },
      signal,
    );
    return {
      verificationId: id,
      expiresAt,
      resendAfter: resendAt,
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
    // Counted before comparing, for the code and for the subject across codes, in one store
    // step: concurrent guesses can never exceed either limit. Only an approval costs a second trip.
    const at = now();
    const snapshot = await store.countAttempt(subject, { now: at, rule: failureRule });
    let judgement = judgeAttempt(snapshot, at, (record) => codeMatchesAny(acceptedSecrets(), record, code));
    if (judgement.result === 'approve' && !(await store.consumeCode(subject, judgement.id))) {
      // Another submission of the right code was approved in between.
      judgement = { result: 'already_used', id: judgement.id };
    }
    if (judgement.result === 'locked' && judgement.lockedNow) onLocked(subject, judgement, policy);
    // The user's since-success budget starts again, in the background: no second round trip.
    if (judgement.result === 'approve') budget.approved(userId);
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

  /** The wrong submission that locked the subject: audit it, and recall the code it was compared with. */
  function onLocked(subject: Subject, j: Extract<Judgement, { result: 'locked' }>, policy: ScenarioPolicy) {
    audit('code.locked', {
      userId: subject.userId,
      scenario: subject.scenario,
      until: new Date(j.lockedUntil).toISOString(),
      verificationId: j.id,
    });
    if (policy.recall && j.id) recalls.expedite(j.id, subject.scenario, 'locked');
  }

  /** SendCode for a subject locked after too many wrong codes is refused until the lock ends. */
  async function refuseWhileLocked(subject: Subject): Promise<void> {
    const at = now();
    const until = await store.lockedUntil(subject, at);
    if (until === 0) return;
    audit('code.refused', { userId: subject.userId, scenario: subject.scenario, reason: 'lockout' });
    throw rateLimited(
      until - at,
      `this user is locked out of ${subject.scenario} after too many wrong codes, until ${new Date(until).toISOString()}`,
    );
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
    // A test message counts against the user's budget like a code; one not sent is given back.
    const at = now();
    const reserved = await budget.reserve(userId, at, raw.scenario);
    let taskId: string;
    try {
      ({ taskId } = await dingtalk.sendMarkdown(binding.dingtalkUserId, message, signal));
    } catch (e) {
      await Promise.all(reserved.map((s) => bestEffort(() => store.releaseSend(s, at))));
      throw e;
    }
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
    deliverCode,
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
