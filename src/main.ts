import { readFileSync } from 'node:fs';
import { createApp } from './app';
import { ConfigError, loadConfig, redactConfig } from './config';
import { createLogger } from './logger';

/** Reads the environment, starts the gateway, and shuts it down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig({ env: process.env, readFile: (p) => readFileSync(p, 'utf8') });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`dingtalk-gateway: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  const app = await createApp(config, { logger });
  if (app.simulator) {
    const banner = [
      '================================================================',
      ' SANDBOX MODE: no DingTalk credentials are set, so every message',
      ' goes to the built-in DingTalk simulator and never leaves this machine.',
      ` Inbox: ${app.simulator.url}/   Demo users: alice, bob (bound); carol (not bound)`,
      ...(app.consoleUrl
        ? [
            ` Console: ${app.consoleUrl}/`,
            app.adminTokenFile
              ? `   sign in with the token in ${app.adminTokenFile}`
              : '   sign in with ADMIN_TOKEN',
          ]
        : []),
      ...(app.hooks
        ? [
            ` Hooks: ${app.hooks.url}/hooks/{${app.hooks.routes.join(',')}}`,
            '   demo credentials and curl recipes: docs/identity-servers.md',
          ]
        : []),
      ' Set DINGTALK_AGENT_ID, DINGTALK_APP_KEY, DINGTALK_APP_SECRET to go live.',
      '================================================================',
    ];
    logger.warn({ sandbox: app.simulator.url }, `\n${banner.join('\n')}`);
  }

  // Last, so that whoever waits for this line (operators, the tests) has seen the banner.
  logger.info(
    { config: redactConfig(config), address: app.grpc.address },
    `listening on ${app.grpc.address}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.close(config.shutdownGraceMs).then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`dingtalk-gateway: failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
