import type { DeliverCodeRequest, DeliverCodeResponse } from '../gen/dingtalk/gateway/v1/verification';
import type { VerificationService } from '../verification/service';
import { RECIPIENT_SOURCE, scenarioFromProto } from './convert';
import { unary, type Observers } from './unary';

/** VerificationService.DeliverCode: proto ⇄ domain, nothing else. */
export const deliverCodeHandler = (service: Pick<VerificationService, 'deliverCode'>, observers: Observers) =>
  unary<DeliverCodeRequest, DeliverCodeResponse>(
    'dingtalk.gateway.v1.VerificationService/DeliverCode',
    observers,
    async (req, { signal }) => {
      const { value, replayed } = await service.deliverCode(
        {
          userId: req.userId,
          dingtalkUserId: req.dingtalkUserId,
          mobile: req.mobile,
          scenario: scenarioFromProto(req.scenario),
          code: req.code,
          text: req.text,
          locale: req.locale,
          ttlSeconds: req.ttlSeconds,
          idempotencyKey: req.idempotencyKey,
          clientIp: req.clientIp,
          origin: 'grpc',
        },
        { signal },
      );
      return {
        deliveryId: value.deliveryId,
        taskId: value.taskId,
        dingtalkUserId: value.dingtalkUserId,
        recipientSource: RECIPIENT_SOURCE[value.recipientSource],
        expiresAt: new Date(value.expiresAt),
        replayed,
      };
    },
  );
