import { randomBytes } from 'node:crypto';
import type { Config } from './config';
import { createDingTalkClient, type DingTalkClient } from './dingtalk/client';
import { createRateGate } from './dingtalk/rate-gate';
import { sleep } from './dingtalk/retry';
import { startSimulator, type InboxMessage, type Simulator } from './dingtalk/simulator';
import type { Binding } from './domain/binding';
import { SCENARIOS } from './domain/scenario';
import { GatewayMode, type GetConfigResponse } from './gen/dingtalk/gateway/v1/verification';
import { scenarioToProto } from './grpc/convert';
import { bindingHandlers, verificationHandlers } from './grpc/handlers';
import { startGrpcServer, type GrpcServerHandle } from './grpc/server';
import type { Logger } from './logger';
import { createMetrics, startMetricsServer, type Metrics } from './metrics';
import { createStore } from './store';
import { createBindingService } from './verification/binding';
import type { VerificationStore } from './verification/ports';
import { createVerificationService } from './verification/service';

/** Identity users the sandbox binds to its demo DingTalk users at start. */
export const SANDBOX_BINDINGS: ReadonlyArray<Pick<Binding, 'userId' | 'dingtalkUserId'>> = [
  { userId: 'alice', dingtalkUserId: 'demo-alice' },
  { userId: 'bob', dingtalkUserId: 'demo-bob' },
];

export interface App {
  config: Config;
  grpc: GrpcServerHandle;
  store: VerificationStore;
  dingtalk: DingTalkClient;
  /** Present in sandbox mode: the built-in DingTalk. */
  simulator?: Simulator;
  metrics: Metrics;
  /** Set when METRICS_ADDRESS is configured. */
  metricsUrl?: string;
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
 * Start order: sandbox simulator (if any) → store → HMAC secret → DingTalk client →
 * services → gRPC server → health SERVING. Anything that fails closes what was opened.
 */
export async function createApp(config: Config, options: AppOptions): Promise<App> {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? randomBytes;
  const opened: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const close of opened.splice(0).reverse()) await close().catch(() => undefined);
  };

  try {
    let dingtalkSettings = config.dingtalk;
    let simulator: Simulator | undefined;
    if (config.mode === 'sandbox') {
      const [host, port] = splitHostPort(config.sandboxAddress);
      // As strict as DingTalk about call rates, so the sandbox shows what the gate prevents.
      simulator = await startSimulator({
        host,
        port,
        onMessage: (m) => logInbox(logger, m),
        maxCallsPerSecond: 20,
      });
      opened.push(() => simulator!.close());
      dingtalkSettings = {
        ...config.dingtalk,
        agentId: simulator.agentId,
        appKey: simulator.appKey,
        appSecret: simulator.appSecret,
        apiUrl: simulator.url,
        oapiUrl: simulator.url,
      };
    }

    const store = await createStore(config.storeUrl, { logger });
    opened.push(() => store.close());
    // Unless configured, the HMAC key is shared through the store so every replica agrees.
    let sharedSecret = config.codeSecret
      ? undefined
      : await store.getOrCreateSecret(SECRET_NAME, random(32).toString('base64'));
    let secret = config.codeSecret ?? Buffer.from(sharedSecret!, 'base64');
    /**
     * Runs with every health probe. A store that lost its data (a Redis restart without
     * persistence) gets this replica's key back, so replicas keep agreeing; if another
     * replica re-created a different key first, the store's key wins.
     */
    const reconcileSecret = async () => {
      if (sharedSecret === undefined) return;
      const inStore = await store.getOrCreateSecret(SECRET_NAME, sharedSecret);
      if (inStore === sharedSecret) return;
      logger.warn(
        { store: store.kind },
        'the shared code secret in the store changed (was the store emptied?); using the stored one',
      );
      sharedSecret = inStore;
      secret = Buffer.from(inStore, 'base64');
    };

    // The gRPC server starts last; until then circuit changes are only remembered.
    let reportDingTalk: (up: boolean) => void = () => undefined;
    const metrics = createMetrics();
    const dingtalk = createDingTalkClient({
      apiUrl: dingtalkSettings.apiUrl,
      oapiUrl: dingtalkSettings.oapiUrl,
      appKey: dingtalkSettings.appKey,
      appSecret: dingtalkSettings.appSecret,
      agentId: dingtalkSettings.agentId,
      timeoutMs: config.dingtalk.timeoutMs,
      maxConnections: config.dingtalk.maxConnections,
      now,
      logger,
      acquire: createRateGate({
        perSecond: config.dingtalk.maxCallsPerSecond,
        takeSlot: store.takeSlot,
        appKey: dingtalkSettings.appKey,
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
    // One event stream feeds both the audit log and the counters.
    const audit = (event: string, fields: Record<string, unknown>) => {
      logger.info({ audit: event, ...fields }, event);
      metrics.onEvent(event, fields);
    };
    const verification = createVerificationService({
      store,
      dingtalk,
      settings: config,
      secret: () => secret,
      now,
      random,
      audit,
    });
    opened.push(async () => verification.close());
    const binding = createBindingService({ store, dingtalk, now, audit });

    if (simulator) {
      for (const b of SANDBOX_BINDINGS) {
        if (!(await store.getBinding(b.userId))) {
          await store.putBinding({ ...b, source: 'dingtalk_user_id', boundAt: now() });
        }
      }
    }

    const configView = (): GetConfigResponse => ({
      enabled: config.enabled,
      mode: config.mode === 'live' ? GatewayMode.GATEWAY_MODE_LIVE : GatewayMode.GATEWAY_MODE_SANDBOX,
      agentId: dingtalkSettings.agentId,
      appKey: dingtalkSettings.appKey,
      appSecretSet: dingtalkSettings.appSecret !== '',
      storeKind: store.kind,
      apiUrl: dingtalkSettings.apiUrl,
      oapiUrl: dingtalkSettings.oapiUrl,
      defaultLocale: config.defaultLocale,
      scenarios: SCENARIOS.map((s) => {
        const p = config.scenarios[s];
        return {
          scenario: scenarioToProto(s),
          enabled: p.enabled,
          codeLength: p.codeLength,
          ttlSeconds: p.ttlSeconds,
          maxAttempts: p.maxAttempts,
          resendIntervalSeconds: p.resendIntervalSeconds,
          maxSendsPerHour: p.maxSendsPerHour,
          templates: Object.entries(p.templates).map(([locale, t]) => ({
            locale,
            title: t.title,
            text: t.text,
          })),
        };
      }),
    });

    const observers = { logger, observeRpc: metrics.observeRpc, failure: metrics.failure };
    let metricsUrl: string | undefined;
    if (config.metricsAddress) {
      const [mhost, mport] = splitHostPort(config.metricsAddress);
      const served = await startMetricsServer(metrics, mhost, mport);
      opened.push(() => new Promise<void>((resolve) => served.server.close(() => resolve())));
      metricsUrl = served.url;
    }

    const grpc = await startGrpcServer({
      address: config.listenAddress,
      verification: verificationHandlers(verification, configView, observers),
      binding: bindingHandlers(binding, observers),
      tls: config.tls,
      authToken: config.authToken,
    });
    // A start that fails closes at once; close() sets the grace for in-flight calls.
    let shutdownGraceMs = 0;
    opened.push(() => grpc.shutdown(shutdownGraceMs));
    reportDingTalk = grpc.setDingTalkUp;
    grpc.setDingTalkUp(dingtalk.circuitState() !== 'open');

    const probe = startHealthProbe(
      store,
      reconcileSecret,
      (up) => {
        grpc.setServing(up);
        metrics.setStoreUp(up);
      },
      logger,
      config.storeProbeMs,
    );
    opened.push(async () => clearInterval(probe));
    grpc.setServing(true);

    return {
      config,
      grpc,
      store,
      dingtalk,
      simulator,
      metrics,
      metricsUrl,
      // In reverse start order: the probe stops, the server drains, then the rest closes.
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

/**
 * Health follows the store: NOT_SERVING while it cannot be reached (or `alsoCheck` fails),
 * SERVING again when it returns.
 */
function startHealthProbe(
  store: VerificationStore,
  alsoCheck: () => Promise<void>,
  setUp: (up: boolean) => void,
  logger: Logger,
  everyMs: number,
) {
  let healthy = true;
  let probing = false;
  const timer = setInterval(() => {
    // A probe waiting on a silent store must not be joined by more.
    if (probing) return;
    probing = true;
    store
      .ping()
      .then(alsoCheck)
      .then(
        () => {
          if (!healthy) logger.info({ store: store.kind }, 'store reachable again; health SERVING');
          healthy = true;
          setUp(true);
        },
        (e: unknown) => {
          if (healthy)
            logger.warn(
              { store: store.kind, err: (e as Error).message },
              'store unreachable; health NOT_SERVING',
            );
          healthy = false;
          setUp(false);
        },
      )
      .finally(() => (probing = false));
  }, everyMs);
  timer.unref();
  return timer;
}

function logInbox(logger: Logger, m: InboxMessage): void {
  // Sandbox only: this is the simulated DingTalk's inbox, shown so a newcomer can read the code.
  logger.info(
    { sandboxInbox: { to: m.userid, taskId: m.taskId } },
    `[sandbox inbox] to ${m.userid}: ${m.title} | ${m.text.replace(/\s+/g, ' ')}`,
  );
}

const SECRET_NAME = 'code-hmac';

export function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}
