// A load generator for unary gRPC calls, run as its own process (see h2client.mjs).
// Unlike h2load it can vary the request body per call: distinct users for SendCode,
// a spread of seeded users for VerifyCode.
// Closed loop (a fixed number of calls in flight) or open loop (a fixed rate).
//
// Usage: node bench/loadgen.mjs '<json options>'; prints one JSON result line.
import { connectH2, requestHeaderBlock } from './h2client.mjs';
import { codeOf, PATHS, seededUser, sendBody, verifyBody, wrongCodeOf } from './proto.mjs';

const o = JSON.parse(process.argv[2]);
const {
  target, // host:port
  kind, // 'verify' | 'send' | 'noop'
  concurrency = 50,
  connections = 1, // one channel, as an identity server holds
  durationMs = 10_000,
  warmupMs = 2_000,
  rate = 0, // calls per second; 0 = closed loop
  users = 10_000, // seeded users (verify)
  runId = String(Date.now()),
} = o;

/**
 * VerifyCode mix over the seeded users, round robin: on its first visit every tenth
 * user submits the right code (APPROVED; later visits find it used: ALREADY_USED), the
 * others a wrong one (WRONG_CODE until max_attempts, then TOO_MANY_ATTEMPTS).
 */
const verifyBodies = () => {
  const n = users;
  const wrong = new Array(n);
  const right = new Array(Math.ceil(n / 10));
  for (let i = 0; i < n; i++) wrong[i] = verifyBody(seededUser(i), wrongCodeOf(i));
  for (let i = 0; i < n; i += 10) right[i / 10] = verifyBody(seededUser(i), codeOf(i));
  return (k) => {
    const i = k % n;
    return k < n && i % 10 === 0 ? right[i / 10] : wrong[i];
  };
};
const recipients = ['demo-alice', 'demo-bob'];
const bodyFor = kind === 'send' ? (k) => sendBody(`s${runId}-${k}`, recipients[k & 1]) : verifyBodies();
const path = kind === 'send' ? PATHS.send : PATHS.verify;

const [host, port] = [
  target.slice(0, target.lastIndexOf(':')),
  Number(target.slice(target.lastIndexOf(':') + 1)),
];
const block = requestHeaderBlock(path, target);
const conns = Array.from({ length: connections }, () => connectH2(host, port, block));

let seq = 0;
let measuring = false;
let stopping = false;
const latencies = [];
let failed = 0;
let inflight = 0;
let measuredStart = 0;
let measuredEnd = 0;
let completedInWindow = 0;
let shortfall = 0;

function one() {
  const k = seq++;
  const started = performance.now();
  const counted = measuring;
  inflight += 1;
  conns[k % connections].call(bodyFor(k), (ok) => {
    inflight -= 1;
    if (counted && measuring) {
      completedInWindow += 1;
      latencies.push(performance.now() - started);
      if (!ok) failed += 1;
    }
    if (!stopping && rate === 0) one();
  });
}

if (rate === 0) {
  for (let i = 0; i < concurrency; i++) one();
} else {
  // Open loop: calls are issued on schedule whatever the latency, up to `concurrency` in flight.
  const t0 = performance.now();
  let issued = 0;
  const tick = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (issued < due) {
      issued += 1;
      if (inflight < concurrency) one();
      else if (measuring) shortfall += 1; // the server fell behind: not issued
    }
  }, 1);
  setTimeout(() => clearInterval(tick), warmupMs + durationMs);
}

setTimeout(() => {
  measuring = true;
  measuredStart = performance.now();
}, warmupMs);
setTimeout(() => {
  measuring = false;
  stopping = true;
  measuredEnd = performance.now();
  const seconds = (measuredEnd - measuredStart) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0;
  const result = {
    generator: 'raw-h2',
    kind,
    concurrency,
    connections,
    rate,
    seconds,
    completed: completedInWindow,
    rps: completedInWindow / seconds,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    max: latencies.at(-1) ?? 0,
    failed,
    shortfall,
    resets: conns.reduce((n, c) => n + c.errors.reset, 0),
    goaways: conns.reduce((n, c) => n + c.errors.goaway, 0),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Let in-flight calls finish briefly, then leave.
  setTimeout(() => {
    for (const c of conns) c.close();
    process.exit(0);
  }, 200);
}, warmupMs + durationMs);
