// A load generator for unary gRPC calls, run as its own process (see h2client.mjs).
// Unlike h2load it can vary the request body per call: distinct users for SendCode,
// a spread of seeded users for VerifyCode.
// Closed loop (a fixed number of calls in flight) or open loop (a fixed rate).
//
// Usage: node bench/loadgen.mjs '<json options>'; prints one JSON result line.
import { drive } from './drive.mjs';
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

drive({
  rate,
  concurrency,
  warmupMs,
  durationMs,
  issue: (k, done) => conns[k % connections].call(bodyFor(k), done),
  report(figures) {
    const result = {
      generator: 'raw-h2',
      kind,
      concurrency,
      connections,
      rate,
      ...figures,
      resets: conns.reduce((n, c) => n + c.errors.reset, 0),
      goaways: conns.reduce((n, c) => n + c.errors.goaway, 0),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    // Let in-flight calls finish briefly, then leave.
    setTimeout(() => {
      for (const c of conns) c.close();
      process.exit(0);
    }, 200);
  },
});
