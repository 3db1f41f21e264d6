import type { Binding } from '../domain/binding';
import { isScenarioName } from '../domain/scenario';
import { Scenario } from '../gen/dingtalk/gateway/v1/scenario';
import type { BindingServiceServer } from '../gen/dingtalk/gateway/v1/binding';
import type { Binding as ProtoBinding, BindUserRequest } from '../gen/dingtalk/gateway/v1/binding';
import { RecallReason, type VerificationServiceServer } from '../gen/dingtalk/gateway/v1/verification';
import type { AdminService } from '../admin/service';
import { permissionDenied } from '../domain/errors';
import { NO_ADMIN } from './auth';
import { configToProto, settingsChangeFromProto } from './config-convert';
import type { Observers } from './unary';
import type { BindingService, BindTarget } from '../verification/binding';
import type { VerificationService } from '../verification/service';
import {
  BINDING_SOURCE,
  DELIVERY_STATUS,
  RECALL_REASON,
  RECIPIENT_SOURCE,
  scenarioFromProto,
  scenarioToProto,
  VERIFY_RESULT,
} from './convert';
import { unary } from './unary';
import { deliverCodeHandler } from './deliver-handler';

const SERVICE = 'dingtalk.gateway.v1';

/** VerificationService handlers: translate proto ⇄ domain and nothing else. */
export function verificationHandlers(
  service: VerificationService,
  admin: AdminService,
  observers: Observers,
  /**
   * Whether an administrator credential is configured, and so the auth interceptor runs and
   * sets the principal; without one the principal header could be a client's forgery.
   */
  adminConfigured: boolean,
): VerificationServiceServer {
  return {
    deliverCode: deliverCodeHandler(service, observers),
    sendCode: unary(`${SERVICE}.VerificationService/SendCode`, observers, async (req, { signal }) => {
      const out = await service.sendCode(
        {
          userId: req.userId,
          scenario: scenarioFromProto(req.scenario),
          dingtalkUserId: req.dingtalkUserId,
          mobile: req.mobile,
          locale: req.locale,
          clientIp: req.clientIp,
          idempotencyKey: req.idempotencyKey,
        },
        signal,
      );
      return {
        verificationId: out.verificationId,
        expiresAt: new Date(out.expiresAt),
        resendAfter: new Date(out.resendAfter),
        taskId: out.taskId,
        dingtalkUserId: out.dingtalkUserId,
        recipientSource: RECIPIENT_SOURCE[out.recipientSource],
      };
    }),
    verifyCode: unary(`${SERVICE}.VerificationService/VerifyCode`, observers, async (req) => {
      const j = await service.verifyCode({
        userId: req.userId,
        scenario: scenarioFromProto(req.scenario),
        code: req.code,
      });
      return {
        result: VERIFY_RESULT[j.result],
        attemptsRemaining: j.result === 'wrong_code' ? j.attemptsRemaining : 0,
        verificationId: ('id' in j && j.id) || '',
        lockedUntil: j.result === 'locked' ? new Date(j.lockedUntil) : undefined,
      };
    }),
    getConfig: unary(`${SERVICE}.VerificationService/GetConfig`, observers, async () =>
      configToProto(admin.view()),
    ),
    updateConfig: unary(`${SERVICE}.VerificationService/UpdateConfig`, observers, async (req, ctx) => {
      // The auth interceptor admits only the administrator; without it no one is one.
      if (!adminConfigured || ctx.principal !== 'admin-token') throw permissionDenied(NO_ADMIN);
      const view = await admin.update(settingsChangeFromProto(req), req.version, ctx.principal, ctx.signal);
      return { config: configToProto(view) };
    }),
    testScenario: unary(`${SERVICE}.VerificationService/TestScenario`, observers, async (req, { signal }) => {
      const out = await service.testScenario(
        { userId: req.userId, scenario: scenarioFromProto(req.scenario), locale: req.locale },
        signal,
      );
      return {
        taskId: out.taskId,
        dingtalkUserId: out.dingtalkUserId,
        deliveryStatus: DELIVERY_STATUS[out.status],
        detail: out.detail,
        dingtalkCode: out.code,
      };
    }),
    getDelivery: unary(`${SERVICE}.VerificationService/GetDelivery`, observers, async (req, { signal }) => {
      const d = await service.getDelivery(req.verificationId, signal);
      return {
        verificationId: d.verificationId,
        taskId: d.taskId,
        userId: d.userId,
        scenario: isScenarioName(d.scenario) ? scenarioToProto(d.scenario) : Scenario.SCENARIO_UNSPECIFIED,
        dingtalkUserId: d.dingtalkUserId,
        deliveryStatus: DELIVERY_STATUS[d.status],
        detail: d.detail,
        dingtalkCode: d.code,
        sentAt: new Date(d.sentAt),
        checkedAt: new Date(d.checkedAt),
        recalledAt: d.recalledAt === undefined ? undefined : new Date(d.recalledAt),
        recallReason: d.recallReason ? RECALL_REASON[d.recallReason] : RecallReason.RECALL_REASON_UNSPECIFIED,
      };
    }),
  };
}

const bindingToProto = (b: Binding): ProtoBinding => ({
  userId: b.userId,
  dingtalkUserId: b.dingtalkUserId,
  source: BINDING_SOURCE[b.source],
  boundAt: new Date(b.boundAt),
});

const TARGET_KIND: Record<NonNullable<BindUserRequest['target']>['$case'], BindTarget['kind']> = {
  dingtalkUserId: 'dingtalk_user_id',
  mobile: 'mobile',
  unionId: 'union_id',
  authCode: 'auth_code',
};

/** BindingService handlers. */
export function bindingHandlers(service: BindingService, observers: Observers): BindingServiceServer {
  return {
    bindUser: unary(`${SERVICE}.BindingService/BindUser`, observers, async (req, { signal }) => {
      const t = req.target;
      const target = t ? ({ kind: TARGET_KIND[t.$case], value: t.value } as const) : undefined;
      return { binding: bindingToProto(await service.bindUser(req.userId, target, signal)) };
    }),
    unbindUser: unary(`${SERVICE}.BindingService/UnbindUser`, observers, async (req) => ({
      removed: await service.unbindUser(req.userId),
    })),
    getBinding: unary(`${SERVICE}.BindingService/GetBinding`, observers, async (req) => ({
      binding: bindingToProto(await service.getBinding(req.userId)),
    })),
    startDingTalkLogin: unary(`${SERVICE}.BindingService/StartDingTalkLogin`, observers, async (req) => {
      const started = await service.startDingTalkLogin(req.userId, req.redirectUri);
      return { ...started, expiresAt: new Date(started.expiresAt) };
    }),
    completeDingTalkLogin: unary(
      `${SERVICE}.BindingService/CompleteDingTalkLogin`,
      observers,
      async (req, { signal }) => ({
        binding: bindingToProto(await service.completeDingTalkLogin(req.state, req.authCode, signal)),
      }),
    ),
  };
}
