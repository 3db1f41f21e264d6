import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the DingTalk client reports about itself at scrape time. */
export interface DingTalkStatsSource {
  stats(): { tokenFetches: number; calls: Record<string, Record<string, number>> };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The gateway's Prometheus metrics. Labels are bounded: method names, status codes,
 * scenarios, outcomes, DingTalk endpoints and errcodes — never user ids.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rpcs = new Counter({
    name: 'dtg_rpc_requests_total',
    help: 'gRPC calls handled, by method and status code',
    labelNames: ['method', 'code'] as const,
    registers: [registry],
  });
  const rpcSeconds = new Histogram({
    name: 'dtg_rpc_duration_seconds',
    help: 'gRPC call latency, by method',
    labelNames: ['method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const codes = new Counter({
    name: 'dtg_codes_total',
    help: 'Codes by scenario and outcome: sent, send_failed, refused (limits), and each verification result',
    labelNames: ['scenario', 'outcome'] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: 'dtg_deliveries_total',
    help: 'Delivery results read back from DingTalk, by scenario, status and forbidden code',
    labelNames: ['scenario', 'status', 'dingtalk_code'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'dtg_failures_total',
    help: 'Refused or failed calls by error kind (store_unavailable counts store errors)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const storeUp = new Gauge({
    name: 'dtg_store_up',
    help: '1 while the store answers its health probe',
    registers: [registry],
  });
  storeUp.set(1);
  const circuitOpen = new Gauge({
    name: 'dtg_dingtalk_circuit_open',
    help: '1 while the gateway has stopped calling DingTalk after repeated outages',
    registers: [registry],
  });
  circuitOpen.set(0);

  // The DingTalk client keeps running totals; these counters copy them at scrape time.
  let dingtalk: DingTalkStatsSource | undefined;
  new Counter({
    name: 'dtg_dingtalk_requests_total',
    help: 'DingTalk HTTP calls, by endpoint and errcode (0 = ok; transport, bad_response, … = no usable answer)',
    labelNames: ['endpoint', 'errcode'] as const,
    registers: [registry],
    collect() {
      if (!dingtalk) return;
      this.reset();
      for (const [endpoint, byCode] of Object.entries(dingtalk.stats().calls)) {
        for (const [errcode, n] of Object.entries(byCode)) this.inc({ endpoint, errcode }, n);
      }
    },
  });
  new Counter({
    name: 'dtg_dingtalk_token_fetches_total',
    help: 'Access token fetches (a refresh before expiry, or a refetch after DingTalk rejected the token)',
    registers: [registry],
    collect() {
      if (!dingtalk) return;
      this.reset();
      this.inc(dingtalk.stats().tokenFetches);
    },
  });

  return {
    registry,
    observeRpc(method: string, code: string, seconds: number) {
      rpcs.inc({ method, code });
      rpcSeconds.observe({ method }, seconds);
    },
    /** Feeds the counters from the service's audit events. */
    onEvent(event: string, f: Record<string, unknown>) {
      const scenario = String(f.scenario ?? '');
      if (event === 'code.sent') codes.inc({ scenario, outcome: 'sent' });
      else if (event === 'code.send_failed') codes.inc({ scenario, outcome: 'send_failed' });
      else if (event === 'code.refused') codes.inc({ scenario, outcome: `refused_${String(f.reason)}` });
      else if (event === 'code.verified') codes.inc({ scenario, outcome: String(f.result) });
      else if (event === 'scenario.tested' || event === 'code.delivery') {
        deliveries.inc({ scenario, status: String(f.delivery), dingtalk_code: String(f.dingtalkCode ?? 0) });
      }
    },
    failure(kind: string) {
      failures.inc({ kind });
    },
    setStoreUp(up: boolean) {
      storeUp.set(up ? 1 : 0);
    },
    setDingTalkCircuitOpen(open: boolean) {
      circuitOpen.set(open ? 1 : 0);
    },
    attachDingTalk(source: DingTalkStatsSource) {
      dingtalk = source;
    },
  };
}

/** Serves GET /metrics on its own address, away from the gRPC port. */
export async function startMetricsServer(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics` };
}
