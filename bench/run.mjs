// `npm run bench`: measures the gateway against the stack's own limit on this machine.
// Cases, all on loopback with the same load generator and settings:
//   bare          node:http2 answering every stream at once, no grpc-js (the runtime's floor)
//   noop          a grpc-js server that answers VerifyCode at once (the limit)
//   verify-memory VerifyCode, in-memory store
//   send-memory   SendCode through the DingTalk simulator, in-memory store
//   verify-redis, send-redis   the same against Redis
//   verify-cluster, send-cluster   the same against a three-master Redis Cluster (started only for these cases)
//   verify-mysql, send-mysql   the same against MariaDB (the MySQL store; started only for these cases)
//   hook-supabase-memory  Supabase's Send SMS hook (signed, a new webhook id and user per call) through
//                 the HTTP hooks, DeliverCode and the simulator, in-memory store; over keep-alive HTTP/1.1
//                 (bench/hookgen.mjs), counted by the generator: the gateway's metrics count gRPC calls only
// then concurrency 1/10/100/1000 and 10^3 vs 10^6 stored codes.
// Servers are pinned to CPU 0; the load generator, simulator, Redis and MariaDB to CPU 1.
//
// Options: --smoke (a second per case, no sweeps: what the test suite runs), --seconds <n>,
// --out <dir> (default bench/results), --no-redis, --no-mysql, --only <case,...>, --cpu-prof,
// --rounds <n> (default 3: each case's figures are the median of n runs; ratios pair runs by round),
// --rate <calls/s> (open loop instead of closed: for comparing CPU per call at equal load),
// --node-args '<flags>' (extra Node flags for the gateway, e.g. V8 heap limits),
// --peak-only (no half-rate run, no sweeps, no h2load cross-check: for quick comparisons),
// --env 'KEY=value,KEY=value' (extra gateway settings, e.g. LOG_LEVEL=warn to price the audit log),
// --memory-limit <MiB> (each server in a memory cgroup of that size, as in a pod with that limit),
// --keep-logs (keep each gateway's log, gateway-<case>.log.tmp, e.g. for --node-args --trace-gc).
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { renderChart } from './chart.mjs';
import {
  cpuSecondsOf,
  diff,
  findMariaDb,
  hasCommand,
  imageNodeFlags,
  memoryCgroup,
  memoryOf,
  pinnable,
  pinned,
  rpcCounts,
  runCommand,
  runNode,
  sampleRss,
  startMariaDbServer,
  startRedisCluster,
  startNode,
  startRedisServer,
} from './procs.mjs';
import { renderMarkdown } from './report.mjs';
import { verifyBody } from './proto.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const smoke = flag('--smoke');
const outDir = option('--out', join(import.meta.dirname, 'results'));
const only = option('--only', '')?.split(',').filter(Boolean);
const cpuProf = flag('--cpu-prof');
const withRedis = !flag('--no-redis') && hasCommand('redis-server');
const withMysql = !flag('--no-mysql') && findMariaDb() !== undefined;
const here = import.meta.dirname;
const extraEnv = Object.fromEntries(
  option('--env', '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

const S = smoke
  ? { durationMs: 1000, warmupMs: 300, halfMs: 0, seed: 1000, scale: false, h2load: false, rounds: 1 }
  : { durationMs: 10_000, warmupMs: 3000, halfMs: 8000, seed: 10_000, scale: true, h2load: true, rounds: 3 };
if (option('--seconds')) S.durationMs = Number(option('--seconds')) * 1000;
if (option('--rounds')) S.rounds = Number(option('--rounds'));
if (flag('--peak-only')) Object.assign(S, { halfMs: 0, scale: false, h2load: false });
const CONCURRENCY = 100;
const SERVER_CPU = 0;
const CLIENT_CPU = 1;

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
// Every server starts with the Node flags of the container image, so the figures are the image's.
const IMAGE_FLAGS = imageNodeFlags(join(here, '..', 'Dockerfile'));
// --memory-limit: every server runs in a memory cgroup of that size, as in a pod with that limit.
const MEMORY_LIMIT_MIB = Number(option('--memory-limit', 0));
const cgroup = MEMORY_LIMIT_MIB > 0 ? memoryCgroup(MEMORY_LIMIT_MIB) : undefined;
if (MEMORY_LIMIT_MIB > 0 && !cgroup)
  log(
    `--memory-limit: this machine does not let the benchmark make a memory cgroup; running without a limit`,
  );
mkdirSync(outDir, { recursive: true });

const sim = startNode(join(here, 'simulator.mjs'), { cpu: CLIENT_CPU });
const simInfo = await sim.ready;
const redis = withRedis ? await startRedisServer({ cpu: CLIENT_CPU }) : undefined;

/** The Supabase hook's secret in the benchmark (Supabase's `v1,whsec_<base64>` form). */
const HOOK_SECRET = `v1,whsec_${Buffer.from('bench-only-supabase-hook-key-0123456789').toString('base64')}`;

const gatewayEnv = (store, seed) => ({
  LISTEN_ADDRESS: '127.0.0.1:0',
  METRICS_ADDRESS: '127.0.0.1:0',
  LOG_LEVEL: 'info',
  DINGTALK_AGENT_ID: String(simInfo.agentId),
  DINGTALK_APP_KEY: simInfo.appKey,
  DINGTALK_APP_SECRET: simInfo.appSecret,
  DINGTALK_API_URL: simInfo.url,
  DINGTALK_OAPI_URL: simInfo.url,
  // The simulator is not DingTalk, so the DingTalk call-rate gate is off (0). Raising it
  // instead would still cap each DingTalk API at 1000 calls/s: the gate books start times
  // at least 1 ms apart. Set the variable to measure with the gate in the path.
  DINGTALK_MAX_CALLS_PER_SECOND: process.env.DINGTALK_MAX_CALLS_PER_SECOND ?? '0',
  // With the gate off, SendCode's sends and delivery reads reach the simulator at some 4000
  // calls/s, each waiting a few ms for a core it shares with the load generator: more than
  // the default 32 connections carry. Behind DingTalk's 20 calls/s a handful are enough.
  DINGTALK_MAX_CONNECTIONS: '64',
  CODE_SECRET: 'bench-only-code-secret-0123456789',
  CODE_RESEND_INTERVAL_SECONDS: '0',
  CODE_MAX_SENDS_PER_HOUR: '1000',
  CODE_MAX_ATTEMPTS: '100',
  // Wrong codes also count per user across codes; at the default 20 a seeded user would be locked
  // (VERIFY_RESULT_LOCKED, no HMAC) from its 20th visit on, and the mix would get cheaper as it runs.
  CODE_MAX_FAILURES: '100',
  BENCH_SEED_CODES: String(seed),
  HOOKS_ADDRESS: '127.0.0.1:0',
  HOOK_SUPABASE_SECRET: HOOK_SECRET,
  // Every hook call is a new user; the message budget is per user, so it does not refuse them.
  ...(store === 'redis' ? { STORE_URL: redis.url } : {}),
  ...(store === 'mysql' ? { STORE_URL: mysql.url } : {}),
  ...(store === 'cluster' ? { STORE_URL: cluster.url } : {}),
  ...extraEnv,
});

/** Starts the server under test: the no-op server or the gateway. */
async function startServer(kase) {
  if (kase.server === 'noop' || kase.server === 'bare') {
    const script = kase.server === 'noop' ? 'noop-server.mjs' : 'bare-h2-server.mjs';
    const p = startNode(join(here, script), {
      cpu: SERVER_CPU,
      cgroup: cgroup?.procs,
      nodeArgs: IMAGE_FLAGS,
    });
    const hello = await p.ready;
    return { proc: p, address: hello.ready, metricsUrl: undefined };
  }
  if (kase.store === 'redis') await redis.flush();
  if (kase.store === 'mysql') await mysql.flush();
  if (kase.store === 'cluster') await cluster.flush();
  const nodeArgs = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, `profile-${kase.id}.tmp`)}`] : [];
  // The log goes to a file, as a container runtime would take it; a pipe read by this
  // process would charge the reading to CPU 1, /dev/null would make logging look free.
  const logFile = join(outDir, `gateway-${kase.id}.log.tmp`);
  const logFd = openSync(logFile, 'w');
  const p = startNode(join(here, 'gateway.mjs'), {
    cpu: SERVER_CPU,
    stdout: logFd,
    env: gatewayEnv(kase.store, kase.seed ?? 0),
    cgroup: cgroup?.procs,
    nodeArgs: [
      '--expose-gc',
      ...IMAGE_FLAGS,
      ...option('--node-args', '').split(' ').filter(Boolean),
      ...nodeArgs,
    ],
  });
  closeSync(logFd);
  const stop = p.stop;
  p.stop = async () => {
    await stop();
    log(`  gateway log: ${Math.round(statSync(logFile).size / 2 ** 20)} MiB`);
    if (!flag('--keep-logs')) rmSync(logFile, { force: true });
  };
  const hello = await p.ready;
  return {
    proc: p,
    address: hello.address,
    metricsUrl: hello.metricsUrl,
    hooksUrl: hello.hooksUrl,
    seedMs: hello.seedMs,
  };
}

/** One load run against a started server; returns the generator's figures plus server-side facts. */
async function load(
  server,
  kase,
  { concurrency = CONCURRENCY, rate = 0, durationMs = S.durationMs, warmupMs = S.warmupMs, users } = {},
) {
  const pid = server.proc.child.pid;
  const before = server.metricsUrl ? await rpcCounts(server.metricsUrl) : undefined;
  const noopBefore = server.metricsUrl ? undefined : (await server.proc.ask('count')).ok;
  const cpu0 = cpuSecondsOf(pid);
  const stopRss = sampleRss(pid);
  const hook = kase.kind === 'hook';
  const opts = {
    target: hook ? server.hooksUrl : server.address,
    secret: hook ? HOOK_SECRET : undefined,
    kind: kase.kind,
    concurrency,
    rate,
    durationMs,
    warmupMs,
    users: users ?? kase.seed ?? S.seed,
    runId: `${kase.id}-${Date.now()}`,
  };
  const gen = JSON.parse(
    await runNode(join(here, hook ? 'hookgen.mjs' : 'loadgen.mjs'), {
      cpu: CLIENT_CPU,
      args: [JSON.stringify(opts)],
    }),
  );
  const peakRss = stopRss();
  const cpuSeconds = cpuSecondsOf(pid) - cpu0;
  const serverCpu = cpuSeconds / ((durationMs + warmupMs) / 1000);
  let ok;
  let errors;
  let outcomes = {};
  if (server.metricsUrl) {
    const after = await rpcCounts(server.metricsUrl);
    const d = diff(after.counts, before.counts);
    ok = Object.entries(d)
      .filter(([k]) => k.endsWith(':OK'))
      .reduce((n, [, v]) => n + v, 0);
    errors = Object.fromEntries(Object.entries(d).filter(([k]) => !k.endsWith(':OK')));
    outcomes = diff(after.outcomes, before.outcomes);
    // HTTP answers are the generator's to count (200, or an error by status).
    if (hook) ({ ok, errors } = gen);
  } else {
    ok = (await server.proc.ask('count')).ok - noopBefore;
    errors = {};
  }
  // CPU time per call (warm-up included) is far steadier than calls/s on a shared machine.
  const calls = ok + Object.values(errors).reduce((a, b) => a + b, 0);
  const cpuUsPerCall = calls > 0 ? (cpuSeconds * 1e6) / calls : undefined;
  return { ...gen, peakRss, hwm: memoryOf(pid).hwm, serverCpu, cpuUsPerCall, ok, errors, outcomes };
}

/** Cross-check of the generator: h2load on the no-op server, one connection, same in-flight calls. */
async function h2loadNoop(server) {
  const body = join(outDir, 'verify-body.tmp');
  writeFileSync(body, verifyBody('u1', '000000'));
  const args = [
    '-t1',
    '-c1',
    `-m${CONCURRENCY}`,
    '-D',
    String(S.durationMs / 1000),
    `--warm-up-time=${S.warmupMs / 1000}`,
  ];
  args.push('-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers');
  args.push(`http://${server.address}/dingtalk.gateway.v1.VerificationService/VerifyCode`);
  const out = await runCommand(...pinned('h2load', args, CLIENT_CPU));
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1] ?? 0);
  const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1];
  return { rps, mean };
}

const CASES = [
  { id: 'bare', label: '(0) bare node:http2, no grpc-js (floor)', server: 'bare', kind: 'noop' },
  { id: 'noop', label: '(a) no-op grpc-js server', server: 'noop', kind: 'noop' },
  { id: 'verify-memory', label: '(b) VerifyCode, memory', kind: 'verify', store: 'memory', seed: S.seed },
  { id: 'send-memory', label: '(c) SendCode + delivery, memory', kind: 'send', store: 'memory' },
  { id: 'verify-redis', label: '(d) VerifyCode, Redis', kind: 'verify', store: 'redis', seed: S.seed },
  { id: 'send-redis', label: '(d) SendCode + delivery, Redis', kind: 'send', store: 'redis' },
  {
    id: 'verify-cluster',
    label: '(g) VerifyCode, Redis Cluster',
    kind: 'verify',
    store: 'cluster',
    seed: S.seed,
  },
  { id: 'send-cluster', label: '(g) SendCode + delivery, Redis Cluster', kind: 'send', store: 'cluster' },
  { id: 'verify-mysql', label: '(f) VerifyCode, MariaDB', kind: 'verify', store: 'mysql', seed: S.seed },
  { id: 'send-mysql', label: '(f) SendCode + delivery, MariaDB', kind: 'send', store: 'mysql' },
  {
    id: 'hook-supabase-memory',
    label: '(e) Supabase hook → DeliverCode, memory',
    kind: 'hook',
    store: 'memory',
  },
]
  .filter((c) => !only?.length || only.includes(c.id))
  .filter((c) => (withRedis || c.store !== 'redis') && (withMysql || c.store !== 'mysql'))
  .filter((c) => (withRedis && hasCommand('redis-cli')) || c.store !== 'cluster');
if (!withMysql && only?.some((id) => id.endsWith('-mysql')))
  log(
    flag('--no-mysql')
      ? 'MySQL cases skipped: --no-mysql'
      : 'MySQL cases skipped: no mariadbd and mariadb-install-db (apt-get install mariadb-server-core)',
  );
const mysql = CASES.some((c) => c.store === 'mysql')
  ? await startMariaDbServer({ cpu: CLIENT_CPU })
  : undefined;
const cluster = CASES.some((c) => c.store === 'cluster')
  ? await startRedisCluster({ cpu: CLIENT_CPU })
  : undefined;

const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    pinned: pinnable
      ? `servers on CPU ${SERVER_CPU}; load generator, simulator, Redis, MariaDB on CPU ${CLIENT_CPU}`
      : 'not pinned',
  },
  settings: {
    ...S,
    concurrency: CONCURRENCY,
    connections: 1,
    logLevel: 'info',
    smoke,
    gatewayNodeFlags: IMAGE_FLAGS,
    memoryLimitMiB: cgroup ? MEMORY_LIMIT_MIB : undefined,
  },
  cases: [],
  concurrency: [],
  storeSize: [],
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

try {
  // Rounds: every case once per round, in the same order, so each case's peak run sits
  // next to a no-op run taken moments before; the machine's speed drifts by ±25 % over
  // minutes, so a ratio of two runs far apart says more about the drift than the gateway.
  // The half-rate run and the h2load cross-check come in the last round.
  const runs = Object.fromEntries(CASES.map((c) => [c.id, []]));
  const extra = Object.fromEntries(CASES.map((c) => [c.id, {}]));
  for (let round = 1; round <= S.rounds; round++) {
    const last = round === S.rounds;
    for (const kase of CASES) {
      log(`round ${round}/${S.rounds}, case ${kase.id} …`);
      const server = await startServer(kase);
      try {
        const peak = await load(server, kase, {
          rate: Number(option('--rate', 0)),
          concurrency: option('--rate') ? 1000 : CONCURRENCY,
        });
        runs[kase.id].push(peak);
        log(
          `  ${Math.round(peak.rps)} calls/s, ${Math.round(peak.cpuUsPerCall ?? 0)} µs CPU/call, p99 ${peak.p99.toFixed(2)} ms, ok ${peak.ok}, errors ${JSON.stringify(peak.errors)}`,
        );
        if (last && S.halfMs > 0 && peak.rps > 0) {
          extra[kase.id].half = await load(server, kase, {
            rate: Math.round(median(runs[kase.id].map((r) => r.rps)) / 2),
            durationMs: S.halfMs,
            // SendCode and hooks: the delivery reads of the peak run come due for 5 s after it
            // (DELIVERY_FOLLOW_UP_MS); the measurement starts once they are done.
            warmupMs: kase.kind === 'send' || kase.kind === 'hook' ? 6000 : 1000,
            concurrency: 1000,
          });
        }
        if (last && kase.id === 'noop' && S.h2load && hasCommand('h2load'))
          extra[kase.id].h2load = await h2loadNoop(server);
      } finally {
        await server.proc.stop();
      }
    }
  }
  // Each case is reported by its median run; its ratios are the medians of the per-round ratios.
  const noopRuns = runs.noop ?? [];
  for (const kase of CASES) {
    const mine = runs[kase.id];
    const rps = median(mine.map((r) => r.rps));
    const perRound = (f) => (noopRuns.length ? median(mine.map((r, i) => f(r, noopRuns[i]))) : undefined);
    results.cases.push({
      id: kase.id,
      label: kase.label,
      peak: mine.find((r) => r.rps === rps),
      rounds: mine.map((r) => ({ rps: r.rps, cpuUsPerCall: r.cpuUsPerCall, peakRss: r.peakRss })),
      ratio: perRound((r, n) => r.rps / n.rps),
      cpuRatio: perRound((r, n) => (r.cpuUsPerCall ? n.cpuUsPerCall / r.cpuUsPerCall : undefined)),
      ...extra[kase.id],
    });
  }

  if (S.scale) {
    for (const kase of CASES.filter((c) => c.kind === 'verify')) {
      const server = await startServer({ ...kase, seed: 100_000 });
      try {
        for (const concurrency of [1, 10, 100, 1000]) {
          log(`scale ${kase.id} concurrency ${concurrency} …`);
          const r = await load(
            server,
            { ...kase, seed: 100_000 },
            { concurrency, durationMs: 6000, warmupMs: 2000 },
          );
          results.concurrency.push({ id: kase.id, concurrency, ...r });
        }
      } finally {
        await server.proc.stop();
      }
      for (const seed of [1000, 1_000_000]) {
        log(`scale ${kase.id} ${seed} stored codes …`);
        const server2 = await startServer({ ...kase, seed });
        try {
          const idle = memoryOf(server2.proc.child.pid).rss;
          const r = await load(server2, { ...kase, seed }, { durationMs: 6000, warmupMs: 2000 });
          results.storeSize.push({ id: kase.id, stored: seed, seedMs: server2.seedMs, idleRss: idle, ...r });
        } finally {
          await server2.proc.stop();
        }
      }
    }
  }
} finally {
  await sim.stop();
  cgroup?.remove();
  await redis?.close();
  await mysql?.close();
  await cluster?.close();
}

const name = smoke ? 'smoke' : 'results';
writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
writeFileSync(join(outDir, `${name}.md`), renderMarkdown(results));
writeFileSync(join(outDir, smoke ? 'smoke-chart.svg' : 'chart.svg'), renderChart(results));
process.stdout.write(renderMarkdown(results));
