// The schedule and the measurement both load generators share (loadgen.mjs for gRPC,
// hookgen.mjs for the HTTP hooks): how calls are issued, which of them are measured, and
// the figures reported.

/**
 * Runs calls for `warmupMs + durationMs` and measures those that start and end inside the
 * last `durationMs`. Closed loop (`rate` 0): `concurrency` calls in flight, each answer starts
 * the next. Open loop: calls are issued on schedule at `rate` per second whatever the latency,
 * up to `concurrency` in flight; a scheduled call over that is not issued but counted as
 * `shortfall` (the server fell behind).
 *
 * `issue(k, done)` starts call number k and calls `done(ok)` once it has ended. When the time
 * is up, `report(figures)` gets { seconds, completed, rps, p50, p99, p999, max, failed,
 * shortfall }, latencies in milliseconds; calls still in flight then are not waited for.
 */
export function drive({ rate, concurrency, warmupMs, durationMs, issue, report }) {
  let seq = 0;
  let inflight = 0;
  let measuring = false;
  let stopping = false;
  let measuredStart = 0;
  let completed = 0;
  let failed = 0;
  let shortfall = 0;
  const latencies = [];

  const one = () => {
    const k = seq++;
    const started = performance.now();
    const counted = measuring;
    inflight += 1;
    issue(k, (ok) => {
      inflight -= 1;
      if (counted && measuring) {
        completed += 1;
        latencies.push(performance.now() - started);
        if (!ok) failed += 1;
      }
      if (!stopping && rate === 0) one();
    });
  };

  if (rate === 0) {
    for (let i = 0; i < concurrency; i++) one();
  } else {
    const t0 = performance.now();
    let issued = 0;
    const tick = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * rate);
      while (issued < due) {
        issued += 1;
        if (inflight < concurrency) one();
        else if (measuring) shortfall += 1;
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
    const seconds = (performance.now() - measuredStart) / 1000;
    latencies.sort((a, b) => a - b);
    const q = (p) =>
      latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0;
    report({
      seconds,
      completed,
      rps: completed / seconds,
      p50: q(0.5),
      p99: q(0.99),
      p999: q(0.999),
      max: latencies.at(-1) ?? 0,
      failed,
      shortfall,
    });
  }, warmupMs + durationMs);
}
