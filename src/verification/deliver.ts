import { generateVerificationId, type RandomBytes } from '../domain/code';
import { composeMessage } from '../domain/compose';
import { callerCode, callerText, deliveredTtl } from '../domain/delivered-code';
import { invalidArgument } from '../domain/errors';
import { normaliseMobile } from '../domain/mobile';
import type { ScenarioPolicy } from '../domain/policy';
import type { ScenarioName } from '../domain/scenario';
import * as check from '../domain/validation';
import type { Dispatcher } from './dispatch';
import { idempotencyRef, type Idempotency } from './idempotency';
import type { AuditSink, Subject } from './ports';
import type { RecipientResolver, RecipientSource } from './recipient';
import type { Reserver } from './reserve';

/** A code the caller made and checks itself, to be delivered only. */
export interface DeliverCodeInput {
  /** The identity server's user id; '' when it names none (then the DingTalk user is the subject). */
  userId: string;
  dingtalkUserId: string;
  /** E.164 with or without the plus, or national; see normaliseMobile. */
  mobile: string;
  scenario: ScenarioName;
  code: string;
  /** The caller's own rendered text, sent instead of the scenario's template; '' for the template. */
  text: string;
  locale: string;
  /** The code's lifetime as the caller states it; 0 = the scenario's TTL. The message is recalled after it. */
  ttlSeconds: number;
  /** The caller's idempotency key; '' for none. */
  idempotencyKey: string;
  clientIp: string;
  /**
   * Where the request came in: 'grpc', or a hook's name ('supabase', …). It names the
   * idempotency keys' namespace (a webhook id never meets a gRPC caller's key) and is in
   * the audit events.
   */
  origin: string;
}

export interface DeliverCodeOutput {
  /** The delivery's id: GetDelivery takes it, and its first 8 characters are the message's reference. */
  deliveryId: string;
  taskId: string;
  dingtalkUserId: string;
  recipientSource: RecipientSource;
  /** When the caller said its code expires; the message is recalled then. */
  expiresAt: number;
}

/** How a call waits: `signal` cancels the work; see deliverCode. */
export interface DeliverOptions {
  signal?: AbortSignal;
  /** Stops only the wait for a concurrent duplicate to finish; default `signal`. */
  waitSignal?: AbortSignal;
  /** Told the delivery's id as soon as it is drawn, before the send (an answer that cannot wait for it). */
  onDeliveryId?: (id: string) => void;
}

export interface DeliverDeps {
  now: () => number;
  random: RandomBytes;
  audit: AuditSink;
  /** The scenario's policy in force, refusing a disabled gateway or scenario. */
  policyFor: (scenario: ScenarioName) => ScenarioPolicy;
  defaultLocale: () => string;
  recipients: Pick<RecipientResolver, 'resolve'>;
  reserver: Pick<Reserver, 'reserve'>;
  dispatcher: Pick<Dispatcher, 'dispatch'>;
  idempotency: Pick<Idempotency, 'once'>;
}

export type DeliverCode = ReturnType<typeof createDeliverCode>;

/**
 * DeliverCode: a code an identity server generated and checks itself (Kratos, ZITADEL,
 * Supabase, Logto, Authentik, Casdoor, Keycloak plugins) goes to the user's DingTalk like
 * SendCode's own codes: the same recipient resolution, per-user limits and message budget,
 * DingTalk call-rate gate and circuit breaker, delivery record and silent-drop detection, and
 * the message is recalled once the caller's stated lifetime has passed. The code is only put
 * into the message: never stored, logged or returned, and there is nothing to verify here.
 */
export function createDeliverCode(deps: DeliverDeps) {
  const { now, random, audit, policyFor } = deps;

  /**
   * Delivers one code. `signal` cancels the work (a gRPC call's); `waitSignal` only stops
   * waiting for a concurrent duplicate to finish (a hook that must answer in time lets its
   * work go on after it answered). Resolves with `replayed` when an earlier request with the
   * same idempotency key answered.
   */
  async function deliverCode(
    raw: DeliverCodeInput,
    options: DeliverOptions = {},
  ): Promise<{ value: DeliverCodeOutput; replayed: boolean }> {
    const { signal, waitSignal = signal } = options;
    const userId = raw.userId ? check.userId(raw.userId) : '';
    const dingtalkUserId = raw.dingtalkUserId ? check.dingtalkUserId(raw.dingtalkUserId) : '';
    const mobile = raw.mobile ? normaliseMobile(raw.mobile) : undefined;
    if (!userId && !dingtalkUserId && !mobile)
      throw invalidArgument('recipient', 'one of user_id, dingtalk_user_id or mobile is required');
    const input = {
      userId,
      dingtalkUserId,
      mobile,
      scenario: raw.scenario,
      code: callerCode(raw.code),
      text: callerText(raw.text),
      locale: check.locale(raw.locale),
      clientIp: check.clientIp(raw.clientIp),
      origin: raw.origin,
    };
    const policy = policyFor(raw.scenario);
    const ttlSeconds = deliveredTtl(raw.ttlSeconds, policy.ttlSeconds);
    const key = check.idempotencyKey(raw.idempotencyKey);
    const request = {
      operation: `DeliverCode:${raw.origin}`,
      key,
      // What decides the message, never the code or its text: the store keeps this digest.
      fields: {
        userId,
        dingtalkUserId,
        mobile: mobile?.lookup ?? '',
        scenario: raw.scenario,
        locale: input.locale ?? '',
        ttlSeconds: String(ttlSeconds),
      },
    };
    const result = await deps.idempotency.once(
      request,
      () => deliverNew({ ...input, ttlSeconds }, policy, options),
      waitSignal,
    );
    if (result.replayed)
      audit('code.replayed', {
        userId: userId || undefined,
        scenario: raw.scenario,
        verificationId: result.value.deliveryId,
        origin: raw.origin,
        idempotencyRef: idempotencyRef(request.operation, key),
      });
    return result;
  }

  async function deliverNew(
    input: {
      userId: string;
      dingtalkUserId: string;
      mobile: ReturnType<typeof normaliseMobile> | undefined;
      scenario: ScenarioName;
      code: string;
      text: string;
      locale: string | undefined;
      clientIp: string;
      origin: string;
      ttlSeconds: number;
    },
    policy: ScenarioPolicy,
    { signal, onDeliveryId }: DeliverOptions,
  ): Promise<DeliverCodeOutput> {
    const recipient = await deps.recipients.resolve(input, signal);
    // Without a user id of the caller's, the DingTalk user is whose limits apply.
    const subject: Subject = {
      userId: input.userId || `dingtalk:${recipient.dingtalkUserId}`,
      scenario: input.scenario,
    };
    const at = now();
    const reservation = await deps.reserver.reserve(subject, policy, input.clientIp, at);
    const id = generateVerificationId(random);
    onDeliveryId?.(id);
    const expiresAt = at + input.ttlSeconds * 1000;
    const message = composeMessage(policy, deps.defaultLocale(), {
      locale: input.locale,
      code: input.code,
      minutes: Math.ceil(input.ttlSeconds / 60),
      ref: id.slice(0, 8),
      text: input.text || undefined,
    });
    const { taskId } = await deps.dispatcher.dispatch(
      {
        id,
        userId: subject.userId,
        scenario: input.scenario,
        recipient,
        message,
        at,
        recallAt: policy.recall ? expiresAt : undefined,
        undo: reservation.release,
        fields: { delivered: true, origin: input.origin },
      },
      signal,
    );
    return {
      deliveryId: id,
      taskId,
      dingtalkUserId: recipient.dingtalkUserId,
      recipientSource: recipient.source,
      expiresAt,
    };
  }

  return { deliverCode };
}
