import {
  BindingServiceClient,
  BindUserRequest,
  BindUserResponse,
  GetBindingRequest,
  GetBindingResponse,
  UnbindUserRequest,
  UnbindUserResponse,
} from '../gen/dingtalk/gateway/v1/binding';
import { stringOption, UsageError } from './args';
import type { Command, Context } from './context';
import { unary } from './connection';
import * as out from './output';

/** The BindingService commands: bind, unbind, binding. */

const bindingService = (ctx: Context) => [ctx.connection(), BindingServiceClient] as const;
const arg = (ctx: Context, name: string): string => ctx.args[name] ?? '';

const BIND_TARGETS = ['dingtalk-user-id', 'mobile', 'union-id'] as const;

export const BINDING_COMMANDS: Record<string, Command> = {
  bind: {
    summary: 'link a user to a DingTalk account (BindUser)',
    args: ['user'],
    synopsis: '<user> (--dingtalk-user-id ID | --mobile NUMBER | --union-id ID) [options]',
    description: [
      "Stores (or replaces) the user's binding after checking the target with DingTalk.",
      'Give exactly one target.',
    ],
    options: {
      'dingtalk-user-id': { type: 'string', value: 'ID', help: 'bind to this DingTalk userid' },
      mobile: { type: 'string', value: 'NUMBER', help: 'bind to the DingTalk user with this mobile number' },
      'union-id': { type: 'string', value: 'ID', help: 'bind to the DingTalk user with this unionid' },
    },
    async run(ctx) {
      const given = BIND_TARGETS.filter((t) => stringOption(ctx.options, t) !== undefined);
      if (given.length !== 1)
        throw new UsageError(
          `${given.length === 0 ? 'missing' : 'more than one'} target: give exactly one of --dingtalk-user-id, --mobile, --union-id`,
          'bind',
        );
      const value = stringOption(ctx.options, given[0])!;
      const target =
        given[0] === 'mobile'
          ? { $case: 'mobile' as const, value }
          : given[0] === 'union-id'
            ? { $case: 'unionId' as const, value }
            : { $case: 'dingtalkUserId' as const, value };
      const request = BindUserRequest.fromPartial({ userId: arg(ctx, 'user'), target });
      const r = await unary(...bindingService(ctx), BindUserResponse, (c, md, o, done) =>
        c.bindUser(request, md, o, done),
      );
      return {
        json: BindUserResponse.toJSON(r),
        human: [`bound: ${out.formatBinding(r.binding, ctx.now())}`],
      };
    },
  },
  unbind: {
    summary: "remove a user's binding (UnbindUser)",
    args: ['user'],
    description: ['Removing a binding that does not exist is not an error; the output says which it was.'],
    options: {},
    async run(ctx) {
      const user = arg(ctx, 'user');
      const r = await unary(...bindingService(ctx), UnbindUserResponse, (c, md, o, done) =>
        c.unbindUser(UnbindUserRequest.fromPartial({ userId: user }), md, o, done),
      );
      return {
        json: UnbindUserResponse.toJSON(r),
        human: [r.removed ? `unbound: ${user}'s binding was removed` : `not bound: ${user} had no binding`],
      };
    },
  },
  binding: {
    summary: "show a user's binding (GetBinding)",
    args: ['user'],
    description: ['Prints the DingTalk userid the user is bound to, how, and when; NOT_FOUND when unbound.'],
    options: {},
    async run(ctx) {
      const user = arg(ctx, 'user');
      const r = await unary(...bindingService(ctx), GetBindingResponse, (c, md, o, done) =>
        c.getBinding(GetBindingRequest.fromPartial({ userId: user }), md, o, done),
      );
      return { json: GetBindingResponse.toJSON(r), human: [out.formatBinding(r.binding, ctx.now())] };
    },
  },
};
