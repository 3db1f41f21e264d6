import type { BindingSource as DomainBindingSource } from '../domain/binding';
import type { Delivery } from '../domain/delivery';
import { invalidArgument } from '../domain/errors';
import type { Judgement } from '../domain/code';
import type { ScenarioName } from '../domain/scenario';
import { BindingSource } from '../gen/dingtalk/gateway/v1/binding';
import { Scenario } from '../gen/dingtalk/gateway/v1/scenario';
import type { RecallReason as DomainRecallReason } from '../domain/recall';
import {
  DeliveryStatus,
  RecallReason,
  RecipientSource,
  VerifyResult,
} from '../gen/dingtalk/gateway/v1/verification';
import type { RecipientSource as DomainRecipientSource } from '../verification/service';

/** Proto ⇄ domain translations; nothing else. */

const SCENARIO_NAMES = new Map<number, ScenarioName>([
  [Scenario.SCENARIO_LOGIN, 'login'],
  [Scenario.SCENARIO_PASSWORD_RECOVERY, 'password_recovery'],
  [Scenario.SCENARIO_TWO_FACTOR, 'two_factor'],
  [Scenario.SCENARIO_PASSWORD_RESET, 'password_reset'],
  [Scenario.SCENARIO_RISK_WARNING, 'risk_warning'],
]);
const SCENARIO_ENUMS = new Map([...SCENARIO_NAMES].map(([k, v]) => [v, k as Scenario]));

export function scenarioFromProto(value: Scenario | number): ScenarioName {
  const name = SCENARIO_NAMES.get(value);
  if (!name) {
    const allowed = [...SCENARIO_NAMES.keys()].map((k) => Scenario[k]).join(', ');
    throw invalidArgument(
      'scenario',
      `${value === 0 ? 'is required' : `${value} is not a scenario`}; expected one of ${allowed}`,
    );
  }
  return name;
}

export const scenarioToProto = (name: ScenarioName): Scenario => SCENARIO_ENUMS.get(name)!;

export const RECIPIENT_SOURCE: Record<DomainRecipientSource, RecipientSource> = {
  explicit: RecipientSource.RECIPIENT_SOURCE_EXPLICIT,
  binding: RecipientSource.RECIPIENT_SOURCE_BINDING,
  mobile: RecipientSource.RECIPIENT_SOURCE_MOBILE,
};

export const BINDING_SOURCE: Record<DomainBindingSource, BindingSource> = {
  dingtalk_user_id: BindingSource.BINDING_SOURCE_DINGTALK_USER_ID,
  mobile: BindingSource.BINDING_SOURCE_MOBILE,
  union_id: BindingSource.BINDING_SOURCE_UNION_ID,
  dingtalk_login: BindingSource.BINDING_SOURCE_DINGTALK_LOGIN,
  dingtalk_in_app: BindingSource.BINDING_SOURCE_DINGTALK_IN_APP,
};

export const VERIFY_RESULT: Record<Judgement['result'], VerifyResult> = {
  approve: VerifyResult.VERIFY_RESULT_APPROVED,
  wrong_code: VerifyResult.VERIFY_RESULT_WRONG_CODE,
  expired: VerifyResult.VERIFY_RESULT_EXPIRED,
  not_found: VerifyResult.VERIFY_RESULT_NOT_FOUND,
  too_many_attempts: VerifyResult.VERIFY_RESULT_TOO_MANY_ATTEMPTS,
  already_used: VerifyResult.VERIFY_RESULT_ALREADY_USED,
  locked: VerifyResult.VERIFY_RESULT_LOCKED,
};

export const DELIVERY_STATUS: Record<Delivery['status'], DeliveryStatus> = {
  pending: DeliveryStatus.DELIVERY_STATUS_PENDING,
  delivered: DeliveryStatus.DELIVERY_STATUS_DELIVERED,
  dropped: DeliveryStatus.DELIVERY_STATUS_DROPPED,
  failed: DeliveryStatus.DELIVERY_STATUS_FAILED,
};

export const RECALL_REASON: Record<DomainRecallReason, RecallReason> = {
  approved: RecallReason.RECALL_REASON_APPROVED,
  replaced: RecallReason.RECALL_REASON_REPLACED,
  locked: RecallReason.RECALL_REASON_LOCKED,
  expired: RecallReason.RECALL_REASON_EXPIRED,
};
