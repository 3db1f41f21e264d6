import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config';
import { startSimulator, type InboxMessage, type Simulator } from './dingtalk/simulator';
import type { Binding } from './domain/binding';
import type { Logger } from './logger';
import type { VerificationStore } from './verification/ports';

/** Identity users the sandbox binds to its demo DingTalk users at start. */
export const SANDBOX_BINDINGS: ReadonlyArray<Pick<Binding, 'userId' | 'dingtalkUserId'>> = [
  { userId: 'alice', dingtalkUserId: 'demo-alice' },
  { userId: 'bob', dingtalkUserId: 'demo-bob' },
];

export interface Sandbox {
  simulator: Simulator;
  /** The configuration with the simulator as DingTalk. */
  config: Config;
  /** Where the generated administrator token was written, when none was configured. */
  adminTokenFile: string | undefined;
}

/**
 * The built-in DingTalk: a simulator on SANDBOX_ADDRESS, as strict about call rates as
 * DingTalk, whose app credentials replace the configured ones. Without ADMIN_TOKEN an
 * administrator token is generated and written to a file only this user can read, so the
 * console can be tried without printing a token anywhere.
 */
export async function startSandbox(config: Config, logger: Logger): Promise<Sandbox> {
  const [host, port] = splitHostPort(config.sandboxAddress);
  const simulator = await startSimulator({
    host,
    port,
    onMessage: (m) => logInbox(logger, m),
    maxCallsPerSecond: 20,
  });
  let adminToken = config.adminToken;
  let adminTokenFile: string | undefined;
  if (adminToken === undefined && config.adminAddress !== undefined) {
    adminToken = randomBytes(24).toString('base64url');
    adminTokenFile = join(mkdtempSync(join(tmpdir(), 'dingtalk-gateway-sandbox-')), 'admin-token');
    writeFileSync(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  }
  return {
    simulator,
    adminTokenFile,
    config: {
      ...config,
      adminToken,
      dingtalk: {
        ...config.dingtalk,
        agentId: simulator.agentId,
        appKey: simulator.appKey,
        appSecret: simulator.appSecret,
        apiUrl: simulator.url,
        oapiUrl: simulator.url,
        // The simulator plays DingTalk's login page too (simulator-login.ts).
        loginUrl: simulator.url,
      },
    },
  };
}

/** Binds the demo users that are not bound yet (a restart keeps what an operator changed). */
export async function seedSandboxBindings(store: VerificationStore, now: () => number): Promise<void> {
  for (const b of SANDBOX_BINDINGS) {
    if (!(await store.getBinding(b.userId))) {
      await store.putBinding({ ...b, source: 'dingtalk_user_id', boundAt: now() });
    }
  }
}

function logInbox(logger: Logger, m: InboxMessage): void {
  // Sandbox only: this is the simulated DingTalk's inbox, shown so a newcomer can read the code.
  logger.info(
    { sandboxInbox: { to: m.userid, taskId: m.taskId } },
    `[sandbox inbox] to ${m.userid}: ${m.title} | ${m.text.replace(/\s+/g, ' ')}`,
  );
}

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
