import type { Binding, BindingSource } from '../domain/binding';
import { notFound, precondition } from '../domain/errors';
import * as check from '../domain/validation';
import { createDingTalkLogin, type LoginSettings } from './login';
import type { AuditSink } from './ports';
import type { DingTalkPort, VerificationStore } from './ports';

export type BindTarget =
  | { kind: 'dingtalk_user_id'; value: string }
  | { kind: 'mobile'; value: string }
  | { kind: 'union_id'; value: string }
  /** An in-app auth code (dd.requestAuthCode in the organisation's micro-app). */
  | { kind: 'auth_code'; value: string };

const SOURCE: Record<BindTarget['kind'], BindingSource> = {
  dingtalk_user_id: 'dingtalk_user_id',
  mobile: 'mobile',
  union_id: 'union_id',
  auth_code: 'dingtalk_in_app',
};

const EXTERNAL_CONTACT =
  'the DingTalk account is an external contact of this organisation, not a member; only members can be bound';

export type BindingService = ReturnType<typeof createBindingService>;

/**
 * Links identity users to DingTalk userids. Every target is checked with DingTalk
 * before it is stored, so a binding always names an active DingTalk user. With `login`
 * it also binds through DingTalk login (login.ts); without it those calls are refused.
 */
export function createBindingService(deps: {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  now: () => number;
  audit?: AuditSink;
  /** DingTalk login's settings and the random source of its states. */
  login?: { settings: LoginSettings; random: (size: number) => Buffer };
}) {
  const { store, dingtalk, now } = deps;
  const audit: AuditSink = deps.audit ?? (() => undefined);

  async function resolve(target: BindTarget, signal?: AbortSignal): Promise<string> {
    switch (target.kind) {
      case 'dingtalk_user_id': {
        const id = check.dingtalkUserId(target.value);
        const user = await dingtalk.getUser(id, signal);
        if (!user) throw notFound(`DingTalk has no user ${id}`);
        if (!user.active) throw notFound(`DingTalk user ${id} is not active`);
        return user.userId;
      }
      case 'mobile': {
        const found = await dingtalk.findUserIdByMobile(check.mobile(target.value), signal);
        if (!found) throw notFound('no active DingTalk user has that mobile number');
        return found;
      }
      case 'union_id': {
        const found = await dingtalk.getByUnionId(check.unionId(target.value), signal);
        if (!found) throw notFound('no DingTalk user of this organisation has that union_id');
        if (found.contactType === 1) throw precondition(EXTERNAL_CONTACT);
        return found.userId;
      }
      case 'auth_code': {
        // getuserinfo answers only for members who opened the organisation's own micro-app.
        const found = await dingtalk.getUserInfoByAuthCode(check.authCode(target.value), signal);
        return found.userId;
      }
    }
  }

  async function bindUser(
    userId: string,
    target: BindTarget | undefined,
    signal?: AbortSignal,
  ): Promise<Binding> {
    check.userId(userId);
    if (!target) {
      throw check.missingTarget();
    }
    const dingtalkUserId = await resolve(target, signal);
    const binding: Binding = {
      userId,
      dingtalkUserId,
      source: SOURCE[target.kind],
      boundAt: now(),
    };
    await store.putBinding(binding);
    audit('binding.created', { userId, dingtalkUserId, source: binding.source });
    return binding;
  }

  async function unbindUser(userId: string): Promise<boolean> {
    check.userId(userId);
    const removed = await store.deleteBinding(userId);
    audit('binding.removed', { userId, removed });
    return removed;
  }

  async function getBinding(userId: string): Promise<Binding> {
    check.userId(userId);
    const binding = await store.getBinding(userId);
    if (!binding) throw notFound(`user ${userId} is not bound to a DingTalk account`);
    return binding;
  }

  const login = deps.login
    ? createDingTalkLogin({ store, dingtalk, now, audit, ...deps.login })
    : {
        startDingTalkLogin: async (): Promise<never> => {
          throw precondition('DingTalk login is not configured in this gateway');
        },
        completeDingTalkLogin: async (): Promise<never> => {
          throw precondition('DingTalk login is not configured in this gateway');
        },
      };

  return { bindUser, unbindUser, getBinding, ...login };
}
