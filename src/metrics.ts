import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { SCENARIOS } from './domain/scenario';

/** What the DingTalk client reports about itself at scrape time. */
export interface DingTalkStatsSource {
  stats(): { tokenFetches: number; calls: Record<string, Record<string, number>> };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Counts by two label values, in nested Maps, for the counters every call updates. prom-client's
 * inc() hashes and validates its label object on each call, which was a tenth of the gateway's own
 * work in a VerifyCode; here a call costs two Map lookups, and the counts are copied into the
 * prom-client Counter when it is scraped.
 */
class PairTally {
  private readonly counts = new Map<string, Map<string, number>>();

  add(a: string, b: string): void {
    let inner = this.counts.get(a);
    if (inner === undefined) this.counts.set(a, (inner = new Map()));
    inner.set(b, (inner.get(b) ?? 0) + 1);
  }

  *entries(): IterableIterator<[string, string, number]> {
    for (const [a, inner] of this.counts) for (const [b, n] of inner) yield [a, b, n];
  }
}

/**
 * A Counter over two labels whose values are copied from `pairs` (label values and count)
 * each time it is scraped: for totals kept outside prom-client.
 */
function pairCounter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly [string, string],
  pairs: () => Iterable<[string, string, number]>,
): void {
  const [first, second] = labelNames;
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [a, b, n] of pairs()) this.inc({ [first]: a, [second]: b }, n);
    },
  });
}

/** One sample as prom-client's registry prints it. */
interface SeriesValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A Prometheus histogram with one label, observed without allocating: bucket counts per label
 * value in a Float64Array, exposed in prom-client's format (cumulative `_bucket` series with
 * `le`, then `_sum` and `_count`) when the registry is scraped.
 */
class OneLabelHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { buckets: Float64Array; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(value: string, seconds: number): void {
    let s = this.series.get(value);
    if (s === undefined)
      this.series.set(value, (s = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 }));
    for (let i = 0; i < this.bounds.length; i++) {
      if (seconds <= this.bounds[i]) {
        s.buckets[i] += 1;
        break;
      }
    }
    s.sum += seconds;
    s.count += 1;
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: SeriesValue[];
  }> {
    const values: SeriesValue[] = [];
    for (const [value, s] of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.buckets[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le, [this.label]: value },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: '+Inf', [this.label]: value },
        value: s.count,
      });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: value }, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: value }, value: s.count });
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values,
    };
  }

  reset(): void {
    this.series.clear();
  }
}

/**
 * The gateway's Prometheus metrics. Labels are bounded: method names, status codes,
 * scenarios, outcomes, DingTalk endpoints and errcodes — never user ids.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const rpcs = new PairTally();
  pairCounter(
    registry,
    'dtg_rpc_requests_total',
    'gRPC calls handled, by method and status code',
    ['method', 'code'],
    () => rpcs.entries(),
  );
  const rpcSeconds = new OneLabelHistogram(
    'dtg_rpc_duration_seconds',
    'gRPC call latency, by method',
    'method',
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );
  // The registry reads a metric through its name and get() (and reset() on resetMetrics).
  registry.registerMetric(rpcSeconds as unknown as Metric);
  const codes = new PairTally();
  pairCounter(
    registry,
    'dtg_codes_total',
    'Codes by scenario and outcome: sent, send_failed, refused (limits), and each verification result',
    ['scenario', 'outcome'],
    () => codes.entries(),
  );
  const deliveries = new Counter({
    name: 'dtg_deliveries_total',
    help: 'Delivery results read back from DingTalk, by scenario, status and forbidden code',
    labelNames: ['scenario', 'status', 'dingtalk_code'] as const,
    registers: [registry],
  });
  const recalls = new Counter({
    name: 'dtg_recalls_total',
    help: "Codes' messages taken back out of users' chats, by outcome: recalled, failed (after retries, or refused by DingTalk), skipped (recall switched off meanwhile)",
    labelNames: ['outcome'] as const,
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
  const storeInfo = new Gauge({
    name: 'dtg_store_info',
    help: 'Always 1: the store kind, its topology (Redis: standalone, sentinel, cluster) and the master in use',
    labelNames: ['kind', 'topology', 'master'],
    registers: [registry],
  });
  const circuitOpen = new Gauge({
    name: 'dtg_dingtalk_circuit_open',
    help: '1 while the gateway has stopped calling DingTalk after repeated outages',
    registers: [registry],
  });
  circuitOpen.set(0);
  const limits = limitCounters(registry);

  // The DingTalk client keeps running totals; these counters copy them at scrape time.
  let dingtalk: DingTalkStatsSource | undefined;
  pairCounter(
    registry,
    'dtg_dingtalk_requests_total',
    'DingTalk HTTP calls, by endpoint and errcode (0 = ok; transport, bad_response, … = no usable answer)',
    ['endpoint', 'errcode'],
    function* () {
      if (!dingtalk) return;
      for (const [endpoint, byCode] of Object.entries(dingtalk.stats().calls)) {
        for (const [errcode, n] of Object.entries(byCode)) yield [endpoint, errcode, n];
      }
    },
  );
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
      rpcs.add(method, code);
      rpcSeconds.observe(method, seconds);
    },
    /** Feeds the counters from the service's audit events. */
    onEvent(event: string, f: Record<string, unknown>) {
      const scenario = String(f.scenario ?? '');
      limits(event, scenario, f);
      if (event === 'code.replayed') codes.add(scenario, 'replayed');
      if (event === 'code.sent') codes.add(scenario, 'sent');
      else if (event === 'code.send_failed') codes.add(scenario, 'send_failed');
      else if (event === 'code.refused') codes.add(scenario, `refused_${String(f.reason)}`);
      else if (event === 'code.verified') codes.add(scenario, String(f.result));
      else if (event === 'code.recalled') recalls.inc({ outcome: 'recalled' });
      else if (event === 'code.recall_failed') recalls.inc({ outcome: 'failed' });
      else if (event === 'code.recall_skipped') recalls.inc({ outcome: 'skipped' });
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
    /** One series only: a new master (after a failover) replaces the old one's. */
    setStoreInfo(info: { kind: string; topology: string; master: string }) {
      storeInfo.reset();
      storeInfo.set(info, 1);
    },
    setDingTalkCircuitOpen(open: boolean) {
      circuitOpen.set(open ? 1 : 0);
    },
    attachDingTalk(source: DingTalkStatsSource) {
      dingtalk = source;
    },
  };
}

/** Every kind of limit refusal, exposed from the start at 0 so rate() and alerts see each series. */
export const LIMIT_KINDS = [
  'cooldown',
  'quota',
  'client_ip',
  'user_day',
  'since_success',
  'lockout',
] as const;

/**
 * The abuse counters, fed from the audit events: `code.refused` by its reason (a send over a
 * limit, a test message included; a send while locked out is reason lockout), a verification
 * answered `locked` (kind lockout), and `code.locked` (a user locked in a scenario by failed
 * verifications across codes).
 */
function limitCounters(registry: Registry) {
  const refusals = new Counter({
    name: 'dtg_limit_refusals_total',
    help: 'Calls refused by a limit, by kind: sends refused by cooldown, quota (per scenario), client_ip, user_day or since_success; sends and verifications refused by a lockout (lockout)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const lockouts = new Counter({
    name: 'dtg_lockouts_total',
    help: 'Lockouts after too many failed verifications, by scenario',
    labelNames: ['scenario'] as const,
    registers: [registry],
  });
  for (const kind of LIMIT_KINDS) refusals.inc({ kind }, 0);
  for (const scenario of SCENARIOS) lockouts.inc({ scenario }, 0);
  return (event: string, scenario: string, f: Record<string, unknown>) => {
    if (event === 'code.refused') refusals.inc({ kind: String(f.reason) });
    else if (event === 'code.locked') lockouts.inc({ scenario });
    else if (event === 'code.verified' && f.result === 'locked') refusals.inc({ kind: 'lockout' });
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
