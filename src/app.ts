import { createActivity } from './admin/activity';
import { createAdminService, type AdminService } from './admin/service';
import { baseSettings, type Config } from './config';
import { createLiveSettings, type LiveSettings } from './config/live';
import { createSecretBox, LOCAL_BOX } from './config/secret-box';
import { startConsole } from './console/server';
import { createDingTalkClient, type DingTalkClient } from './dingtalk/client';
import { createRateGate } from './dingtalk/rate-gate';
import { sleep } from './dingtalk/retry';
import type { Simulator } from './dingtalk/simulator';
import { redirectPolicy } from './domain/login';
import { bindingHandlers, verificationHandlers } from './grpc/handlers';
import { startGrpcServer, type GrpcServerHandle } from './grpc/server';
import { startHealthProbe, storeInfo } from './health-probe';
import { startHooks } from './hooks/server';
import type { Logger } from './logger';
import { createMetrics, startMetricsServer, type Metrics } from './metrics';
import { blockRandom } from './random';
import { seedSandboxBindings, splitHostPort, startSandbox } from './sandbox';
import { createStore } from './store';
import { createBindingService } from './verification/binding';
import { createCodeSecret } from './verification/code-secret';
import type { VerificationStore } from './verification/ports';
import { createVerificationService } from './verification/service';

export { SANDBOX_BINDINGS, splitHostPort } from './sandbox';

export interface App {
  /** The configuration as started (in the sandbox, with the simulator's credentials). */
  config: Config;
  grpc: GrpcServerHandle;
  store: VerificationStore;
  dingtalk: DingTalkClient;
  /** The settings in force, changed at run time through UpdateConfig or the console. */
  settings: LiveSettings;
  admin: AdminService;
  /** Present in sandbox mode: the built-in DingTalk. */
  simulator?: Simulator;
  /** Sandbox without ADMIN_TOKEN: the file holding the generated administrator token. */
  adminTokenFile?: string;
  metrics: Metrics;
  /** Set when METRICS_ADDRESS is configured. */
  metricsUrl?: string;
  /** Set when ADMIN_ADDRESS is configured: the admin console. */
  consoleUrl?: string;
  /** Set when HOOKS_ADDRESS is configured: the HTTP hooks' base URL, and the routes that are on. */
  hooks?: { url: string; routes: string[] };
  /** Health goes NOT_SERVING, in-flight calls get up to graceMs, then everything closes. */
  close(graceMs?: number): Promise<void>;
}

export interface AppOptions {
  logger: Logger;
  now?: () => number;
  random?: (size: number) => Buffer;
}

/**
 * The composition root: the only place adapters are wired to the services.
 * Start order: sandbox simulator (if any) → store → HMAC secret → settings → DingTalk
 * client → services → metrics, gRPC and console servers → health SERVING. Anything that
 * fails closes what was opened, in reverse.
 */
export async function createApp(started: Config, options: AppOptions): Promise<App> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? blockRandom();
  const opened: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
  };

  try {
    const sandbox = started.mode === 'sandbox' ? await startSandbox(started, logger) : undefined;
    if (sandbox) opened.push(() => sandbox.simulator.close());
    const config = sandbox?.config ?? started;

    const store = await createStore(config.storeUrl, {
      logger,
      redisWaitReplicas: config.redisWaitReplicas,
      redisWaitTimeoutMs: config.redisWaitTimeoutMs,
    });
    opened.push(() => store.close());
    const codeSecret = await createCodeSecret(store, config.codeSecret, random, logger, {
      previous: config.codeSecretPrevious,
      generation: config.codeSecretGeneration,
      now,
      // Every running replica reads a rotated key at its next store probe, well before this.
      graceMs: Math.max(30_000, 3 * config.storeProbeMs),
    });
    const metrics = createMetrics();
    metrics.setStoreInfo(storeInfo(store));
    const activity = createActivity(now);
    // One event stream feeds the audit log, the counters and the console's overview.
    const audit = (event: string, fields: Record<string, unknown>) => {
      logger.info({ audit: event, ...fields }, event);
      metrics.onEvent(event, fields);
      activity.onEvent(event, fields);
    };

    // The gRPC server starts last; until then circuit changes are only remembered.
    let reportDingTalk: (up: boolean) => void = () => undefined;
    const dingtalk = createDingTalkClient({
      ...config.dingtalk,
      now,
      logger,
      acquire: createRateGate({
        perSecond: config.dingtalk.maxCallsPerSecond,
        takeSlot: store.takeSlot,
        appKey: () => settings.current.settings.appKey,
        now,
        sleep,
      }),
      circuit: {
        failureThreshold: config.dingtalk.circuitFailures,
        openMs: config.dingtalk.circuitOpenMs,
        onChange: (state) => {
          metrics.setDingTalkCircuitOpen(state === 'open');
          reportDingTalk(state !== 'open');
        },
      },
    });
    opened.push(async () => dingtalk.close());
    metrics.attachDingTalk(dingtalk);

    const settings = await createLiveSettings({
      base: baseSettings(config),
      baseSources: config.sources,
      store,
      // A store only this process sees needs no key; a shared one never gets the secret in clear.
      box: config.configEncryptionKey
        ? createSecretBox(config.configEncryptionKey)
        : store.kind === 'memory'
          ? LOCAL_BOX
          : undefined,
      runtimeChanges: config.runtimeChanges,
      tryCredentials: dingtalk.tryCredentials,
      now,
      pollMs: config.configPollMs,
      audit,
      logger,
    });
    opened.push(async () => settings.close());
    const applyCredentials = () => {
      const { agentId, appKey, appSecret } = settings.current.settings;
      dingtalk.setCredentials({ agentId, appKey, appSecret });
    };
    settings.onChange((next, previous) => {
      const [a, b] = [next.settings, previous.settings];
      if (a.agentId !== b.agentId || a.appKey !== b.appKey || a.appSecret !== b.appSecret) {
        applyCredentials();
        logger.info({ version: next.version }, 'DingTalk app credentials changed; cached token dropped');
      }
      logger.info({ version: next.version, by: next.updatedBy }, 'runtime settings applied');
    });
    applyCredentials();

    const verification = createVerificationService({
      store,
      dingtalk,
      settings: { ...config, mobileCacheMs: config.hooks.mobileCacheMs },
      policies: () => settings.current.settings,
      secret: codeSecret.current,
      acceptedSecrets: codeSecret.accepted,
      now,
      random,
      audit,
    });
    opened.push(async () => verification.close());
    const binding = createBindingService({
      store,
      dingtalk,
      now,
      audit,
      login: {
        random,
        settings: {
          loginUrl: config.dingtalk.loginUrl,
          // Unset in the sandbox: loopback callbacks, so the recipe in docs/dingtalk-login.md works.
          redirects: redirectPolicy(config.dingtalk.loginRedirectUris, config.mode === 'sandbox'),
          corpId: config.dingtalk.corpId,
          clientId: () => settings.current.settings.appKey,
        },
      },
    });
    if (sandbox) await seedSandboxBindings(store, now);

    let storeUp = true;
    const admin = createAdminService({
      live: settings,
      facts: {
        mode: config.mode,
        storeKind: store.kind,
        apiUrl: config.dingtalk.apiUrl,
        oapiUrl: config.dingtalk.oapiUrl,
        runtimeChanges: config.runtimeChanges,
      },
      storeUp: () => storeUp,
      circuitState: dingtalk.circuitState,
      activity,
    });

    let metricsUrl: string | undefined;
    if (config.metricsAddress) {
      const served = await startMetricsServer(metrics, ...splitHostPort(config.metricsAddress));
      opened.push(() => new Promise<void>((resolve) => served.server.close(() => resolve())));
      metricsUrl = served.url;
    }

    const observers = { logger, observeRpc: metrics.observeRpc, failure: metrics.failure };
    const grpc = await startGrpcServer({
      address: config.listenAddress,
      verification: verificationHandlers(verification, admin, observers, config.adminToken !== undefined),
      binding: bindingHandlers(binding, observers),
      tls: config.tls,
      authToken: config.authToken,
      adminToken: config.adminToken,
    });
    // A start that fails closes at once; close() sets the grace for in-flight calls.
    let shutdownGraceMs = 0;
    opened.push(() => grpc.shutdown(shutdownGraceMs));
    reportDingTalk = grpc.setDingTalkUp;
    grpc.setDingTalkUp(dingtalk.circuitState() !== 'open');

    let consoleUrl: string | undefined;
    if (config.adminAddress && config.adminToken) {
      const [host, port] = splitHostPort(config.adminAddress);
      const served = await startConsole({
        host,
        port,
        tls: config.tls,
        adminToken: config.adminToken,
        admin,
        verification,
        binding,
        sandboxInboxUrl: sandbox ? `${sandbox.simulator.url}/` : undefined,
        logger,
        now,
        random,
      });
      opened.push(served.close);
      consoleUrl = served.url;
    } else if (config.adminAddress) {
      logger.warn(
        { adminAddress: config.adminAddress },
        'ADMIN_ADDRESS is set but ADMIN_TOKEN is not; the console stays off',
      );
    }

    let hooks: App['hooks'];
    if (config.hooks.address) {
      const [host, port] = splitHostPort(config.hooks.address);
      const served = await startHooks({
        host,
        port,
        tls: config.tls,
        hooks: config.hooks,
        deliver: verification.deliverCode,
        secret: codeSecret.current,
        audit,
        logger,
        now,
      });
      opened.push(() => served.close(Math.min(shutdownGraceMs, 5000)));
      hooks = { url: served.url, routes: served.routes };
      logger.info({ hooks: served.url, routes: served.routes }, `hooks served at ${served.url}/hooks/`);
    }

    const probe = startHealthProbe(
      store,
      codeSecret.reconcile,
      (up) => {
        storeUp = up;
        grpc.setServing(up);
        metrics.setStoreUp(up);
        metrics.setStoreInfo(storeInfo(store));
      },
      logger,
      config.storeProbeMs,
    );
    opened.push(async () => probe.stop());
    grpc.setServing(true);

    return {
      config,
      grpc,
      store,
      dingtalk,
      settings,
      admin,
      simulator: sandbox?.simulator,
      adminTokenFile: sandbox?.adminTokenFile,
      metrics,
      metricsUrl,
      consoleUrl,
      hooks,
      // In reverse start order: the probe stops, the servers drain, then the rest closes.
      close: async (graceMs = 5000) => {
        shutdownGraceMs = graceMs;
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
