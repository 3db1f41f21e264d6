import type { Binding, BindingSource } from '../domain/binding';
import { notFound } from '../domain/errors';
import * as check from '../domain/validation';
import type { AuditSink } from './ports';
import type { DingTalkPort, VerificationStore } from './ports';

export type BindTarget =
  | { kind: 'dingtalk_user_id'; value: string }
  | { kind: 'mobile'; value: string }
  | { kind: 'union_id'; value: string };

export type BindingService = ReturnType<typeof createBindingService>;

/**
 * Links identity users to DingTalk userids. Every target is checked with DingTalk
 * before it is stored, so a binding always names an active DingTalk user.
 */
export function createBindingService(deps: {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  now: () => number;
  audit?: AuditSink;
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
        const found = await dingtalk.findUserIdByUnionId(check.unionId(target.value), signal);
        if (!found) throw notFound('no DingTalk user of this organisation has that union_id');
        return found;
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
      source: target.kind satisfies BindingSource,
      boundAt: now(),
    };
    await store.putBinding(binding);
    audit('binding.created', { userId, dingtalkUserId, source: target.kind });
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

  return { bindUser, unbindUser, getBinding };
}
