import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { VerifyResult } from '../../src/gen/dingtalk/gateway/v1/verification';
import { rpcError } from '../helpers/grpc-client';
import { startSidecar } from '../helpers/sidecar';

const root = join(__dirname, '..', '..');
const exitCode = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));

describe('the entry point', () => {
  it('starts the sandbox, serves a full send/verify, and exits 0 on SIGTERM', async () => {
    const sidecar = await startSidecar({});
    const { output } = sidecar;
    const clients = sidecar;
    try {
      expect(output()).toContain('SANDBOX MODE');
      const inboxUrl = /Inbox: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output())![1];
      await clients.verification.sendCode({
        userId: 'alice',
        scenario: Scenario.SCENARIO_LOGIN,
        dingtalkUserId: '',
        mobile: '',
        locale: '',
      });
      const { messages } = (await (await fetch(`${inboxUrl}/inbox.json`)).json()) as {
        messages: Array<{ text: string }>;
      };
      const code = /\*\*(\d{6})\*\*/.exec(messages[messages.length - 1].text)![1];
      const page = await (await fetch(`${inboxUrl}/`)).text();
      expect(page).toContain(code);
      const v = await clients.verification.verifyCode({
        userId: 'alice',
        scenario: Scenario.SCENARIO_LOGIN,
        code,
      });
      expect(v.result).toBe(VerifyResult.VERIFY_RESULT_APPROVED);
      const err = await rpcError(
        clients.verification.testScenario({ scenario: Scenario.SCENARIO_LOGIN, userId: 'carol', locale: '' }),
      );
      expect(err.code).toBe(status.FAILED_PRECONDITION);
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
  });

  it('refuses to start in production without credentials, naming them', async () => {
    const child = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exitCode(child)).toBe(2);
    expect(err).toContain(
      'DINGTALK_AGENT_ID, DINGTALK_APP_KEY, DINGTALK_APP_SECRET: required when NODE_ENV=production',
    );
  });
});
