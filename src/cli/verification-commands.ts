import {
  GetConfigRequest,
  GetConfigResponse,
  GetDeliveryRequest,
  GetDeliveryResponse,
  SendCodeRequest,
  SendCodeResponse,
  TestScenarioRequest,
  TestScenarioResponse,
  VerificationServiceClient,
  VerifyCodeRequest,
  VerifyCodeResponse,
} from '../gen/dingtalk/gateway/v1/verification';
import { stringOption, UsageError } from './args';
import type { Command, Context } from './context';
import { unary } from './connection';
import * as out from './output';
import { parseScenario } from './scenarios';

/** The VerificationService commands: send, verify, test, delivery, config. */

const locale = {
  type: 'string',
  value: 'TAG',
  help: "message language, a BCP 47 tag such as zh-CN or en-US (default: the gateway's)",
} as const;

const verification = (ctx: Context) => [ctx.connection(), VerificationServiceClient] as const;
const arg = (ctx: Context, name: string): string => ctx.args[name] ?? '';

export const VERIFICATION_COMMANDS: Record<string, Command> = {
  send: {
    summary: 'send a verification code to a user (SendCode)',
    args: ['scenario', 'user'],
    description: [
      "Issues a new code for the user and scenario, replacing any earlier one, and sends it to the user's",
      'DingTalk account as a work notification. Prints the verification id, never the code.',
    ],
    options: {
      'dingtalk-user-id': {
        type: 'string',
        value: 'ID',
        help: 'send to this DingTalk userid, ignoring (and keeping) any stored binding',
      },
      mobile: {
        type: 'string',
        value: 'NUMBER',
        help: 'if the user has no binding, find them in DingTalk by this mobile number and bind them',
      },
      locale,
      'client-ip': {
        type: 'string',
        value: 'IP',
        help: "the end user's IP address, for the per-IP send limit",
      },
      'idempotency-key': {
        type: 'string',
        value: 'KEY',
        help: 'repeat this key on a retry: within 10 minutes it answers the first send instead of sending again',
      },
    },
    async run(ctx) {
      const request = SendCodeRequest.fromPartial({
        scenario: parseScenario(arg(ctx, 'scenario'), 'send'),
        userId: arg(ctx, 'user'),
        dingtalkUserId: stringOption(ctx.options, 'dingtalk-user-id') ?? '',
        mobile: stringOption(ctx.options, 'mobile') ?? '',
        locale: stringOption(ctx.options, 'locale') ?? '',
        clientIp: stringOption(ctx.options, 'client-ip') ?? '',
        idempotencyKey: stringOption(ctx.options, 'idempotency-key') ?? '',
      });
      const r = await unary(...verification(ctx), SendCodeResponse, (c, md, o, done) =>
        c.sendCode(request, md, o, done),
      );
      return { json: SendCodeResponse.toJSON(r), human: out.formatSend(r, ctx.now()) };
    },
  },
  verify: {
    summary: 'check a code a user typed (VerifyCode)',
    args: ['scenario', 'user', 'code'],
    description: [
      'Submits the code; each submission counts as an attempt. A code of `-` is read from stdin,',
      'so it does not appear in the process list: `echo 123456 | dtg verify login alice -`.',
      'Prints the result (approved, or why not) and the attempts remaining; exits 0 whatever the result.',
    ],
    options: {},
    async run(ctx) {
      const scenario = parseScenario(arg(ctx, 'scenario'), 'verify');
      let code = arg(ctx, 'code');
      if (code === '-') {
        code = await ctx.readStdinLine('code: ');
        if (code === '') throw new UsageError('no code on stdin', 'verify');
      }
      const request = VerifyCodeRequest.fromPartial({ scenario, userId: arg(ctx, 'user'), code });
      const r = await unary(...verification(ctx), VerifyCodeResponse, (c, md, o, done) =>
        c.verifyCode(request, md, o, done),
      );
      return { json: VerifyCodeResponse.toJSON(r), human: out.formatVerify(r, ctx.now()) };
    },
  },
  test: {
    summary: 'send a marked test message, report its delivery (TestScenario)',
    args: ['scenario', 'user'],
    description: [
      "Renders the scenario's template with a test code that can never verify, sends it to the bound",
      'user, and reports whether DingTalk delivered it. The user must be bound (see `dtg bind`).',
    ],
    options: { locale },
    async run(ctx) {
      const request = TestScenarioRequest.fromPartial({
        scenario: parseScenario(arg(ctx, 'scenario'), 'test'),
        userId: arg(ctx, 'user'),
        locale: stringOption(ctx.options, 'locale') ?? '',
      });
      const r = await unary(...verification(ctx), TestScenarioResponse, (c, md, o, done) =>
        c.testScenario(request, md, o, done),
      );
      return { json: TestScenarioResponse.toJSON(r), human: out.formatTest(r) };
    },
  },
  delivery: {
    summary: 'whether DingTalk delivered a sent code (GetDelivery)',
    args: ['verification-id'],
    description: [
      'Reports what DingTalk said about the message of a code sent by `dtg send` (or SendCode):',
      'pending, delivered, dropped (daily cap, duplicate content, outside the visible range) or failed.',
      'A pending record is checked with DingTalk on the spot. Records are kept for 24 hours.',
    ],
    options: {},
    async run(ctx) {
      const request = GetDeliveryRequest.fromPartial({ verificationId: arg(ctx, 'verification-id') });
      const r = await unary(...verification(ctx), GetDeliveryResponse, (c, md, o, done) =>
        c.getDelivery(request, md, o, done),
      );
      return { json: GetDeliveryResponse.toJSON(r), human: out.formatDelivery(r, ctx.now()) };
    },
  },
  config: {
    summary: 'the effective configuration, without secrets (GetConfig)',
    args: [],
    description: ["Prints the settings and every scenario's policy; --json adds the message templates."],
    options: {},
    async run(ctx) {
      const r = await unary(...verification(ctx), GetConfigResponse, (c, md, o, done) =>
        c.getConfig(GetConfigRequest.fromPartial({}), md, o, done),
      );
      return { json: GetConfigResponse.toJSON(r), human: out.formatConfig(r) };
    },
  },
};
