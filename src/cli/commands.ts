import { checkHealth } from '../healthcheck';
import { BINDING_COMMANDS } from './binding-commands';
import type { Command } from './context';
import { VERIFICATION_COMMANDS } from './verification-commands';

/**
 * The subcommands, one per RPC, as plain objects (see context.ts): what they take, for
 * parsing and --help, and how they turn arguments into a request and the response into output.
 */

/** grpc.health.v1 Check, spoken by the same code as the image's HEALTHCHECK. */
const HEALTH: Record<string, Command> = {
  health: {
    summary: "the gateway's grpc.health.v1 status",
    args: [],
    optionalArgs: ['service'],
    description: [
      "Asks grpc.health.v1 Check about the service, '' (the default) meaning the whole gateway.",
      'Needs no token. Exits 0 when SERVING and 1 otherwise, so it can serve as a probe.',
    ],
    options: {},
    async run(ctx) {
      const service = ctx.args.service ?? '';
      const c = ctx.connection();
      const status = await checkHealth(c.address, c.credentials, {
        service,
        timeoutMs: c.timeoutMs,
        channelOptions: c.channelOptions,
      });
      return {
        json: { status },
        human: [`health${service ? ` of ${service}` : ''}: ${status}`],
        ok: status === 'SERVING',
      };
    },
  },
};

/** Every command, in the order --help lists them. */
export const COMMANDS: Record<string, Command> = { ...VERIFICATION_COMMANDS, ...BINDING_COMMANDS, ...HEALTH };
