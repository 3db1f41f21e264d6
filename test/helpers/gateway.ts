import type { ChannelCredentials } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { createApp, type App } from '../../src/app';
import type { Simulator } from '../../src/dingtalk/simulator';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { connect, type Clients } from './grpc-client';

export interface TestGateway extends Clients {
  app: App;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Raw log text, for grepping secrets. */
  logText(): string;
  /** Moves the gateway's clock forward. */
  advance(ms: number): void;
  stop(): Promise<void>;
}

/** The settings that run a gateway live against `sim` instead of DingTalk. */
export const simulatorEnv = (sim: Simulator): Record<string, string> => ({
  DINGTALK_AGENT_ID: String(sim.agentId),
  DINGTALK_APP_KEY: sim.appKey,
  DINGTALK_APP_SECRET: sim.appSecret,
  DINGTALK_API_URL: sim.url,
  DINGTALK_OAPI_URL: sim.url,
});

/**
 * Starts a real gateway on 127.0.0.1:0. With no DingTalk settings it runs in
 * sandbox mode with its built-in simulator (app.simulator) on another free port.
 */
export async function startGateway(
  env: Record<string, string> = {},
  files: Record<string, string> = {},
  channel?: ChannelCredentials,
): Promise<TestGateway> {
  const config = loadConfig({
    env: {
      LISTEN_ADDRESS: '127.0.0.1:0',
      SANDBOX_ADDRESS: '127.0.0.1:0',
      ADMIN_ADDRESS: '127.0.0.1:0',
      HOOKS_ADDRESS: '127.0.0.1:0',
      LOG_LEVEL: 'debug',
      DELIVERY_CHECK_MS: '1000',
      ...env,
    },
    readFile: (p) => {
      if (p in files) return files[p];
      if (p.startsWith(tmpdir())) return readFileSync(p, 'utf8');
      throw Object.assign(new Error(`no file ${p}`), { code: 'ENOENT' });
    },
  });
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  let offset = 0;
  const app = await createApp(config, {
    logger: createLogger(config.logLevel, sink),
    now: () => Date.now() + offset,
  });
  const clients = connect(app.grpc.address, channel);
  return {
    ...clients,
    app,
    get logs() {
      return chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    logText: () => chunks.join(''),
    advance: (ms) => {
      offset += ms;
    },
    stop: async () => {
      clients.close();
      await app.close(1000);
    },
  };
}

/** Reads the code out of the newest sandbox inbox message to `dingtalkUserId`, as a user would. */
export function latestCode(gw: TestGateway, dingtalkUserId: string): string {
  const inbox = gw.app.simulator!.inbox.filter((m) => m.userid === dingtalkUserId);
  const last = inbox[inbox.length - 1];
  if (!last) throw new Error(`no message to ${dingtalkUserId}`);
  const m = /\*\*(\d+)\*\*/.exec(last.text);
  if (!m) throw new Error('no code in the message');
  return m[1];
}
