import type { Binding } from '../domain/binding';
import { isScenarioName } from '../domain/scenario';
import { Scenario } from '../gen/dingtalk/gateway/v1/scenario';
import type { BindingServiceServer } from '../gen/dingtalk/gateway/v1/binding';
import type { Binding as ProtoBinding } from '../gen/dingtalk/gateway/v1/binding';
import type { GetConfigResponse, VerificationServiceServer } from '../gen/dingtalk/gateway/v1/verification';
import type { Observers } from './unary';
import type { BindingService } from '../verification/binding';
import type { VerificationService } from '../verification/service';
import {
  BINDING_SOURCE,
  DELIVERY_STATUS,
  RECIPIENT_SOURCE,
  scenarioFromProto,
  scenarioToProto,
  VERIFY_RESULT,
} from './convert';
import { unary } from './unary';

const SERVICE = 'dingtalk.gateway.v1';

/** VerificationService handlers: translate proto ⇄ domain and nothing else. */
export function verificationHandlers(
  service: VerificationService,
  config: () => GetConfigResponse,
  observers: Observers,
): VerificationServiceServer {
  return {
    sendCode: unary(`${SERVICE}.VerificationService/SendCode`, observers, async (req, { signal }) => {
      const out = await service.sendCode(
        {
          userId: req.userId,
          scenario: scenarioFromProto(req.scenario),
          dingtalkUserId: req.dingtalkUserId,
          mobile: req.mobile,
          locale: req.locale,
          clientIp: req.clientIp,
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
        verificationId: 'id' in j ? j.id : '',
      };
    }),
    getConfig: unary(`${SERVICE}.VerificationService/GetConfig`, observers, async () => config()),
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

/** BindingService handlers. */
export function bindingHandlers(service: BindingService, observers: Observers): BindingServiceServer {
  return {
    bindUser: unary(`${SERVICE}.BindingService/BindUser`, observers, async (req, { signal }) => {
      const t = req.target;
      const target = t
        ? t.$case === 'dingtalkUserId'
          ? ({ kind: 'dingtalk_user_id', value: t.value } as const)
          : t.$case === 'mobile'
            ? ({ kind: 'mobile', value: t.value } as const)
            : ({ kind: 'union_id', value: t.value } as const)
        : undefined;
      return { binding: bindingToProto(await service.bindUser(req.userId, target, signal)) };
    }),
    unbindUser: unary(`${SERVICE}.BindingService/UnbindUser`, observers, async (req) => ({
      removed: await service.unbindUser(req.userId),
    })),
    getBinding: unary(`${SERVICE}.BindingService/GetBinding`, observers, async (req) => ({
      binding: bindingToProto(await service.getBinding(req.userId)),
    })),
  };
}
