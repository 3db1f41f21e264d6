// The Markdown report of a benchmark run.
const f0 = (n) => (n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const f2 = (n) => (n === undefined ? '–' : n.toFixed(2));
const pct = (n) => (n === undefined ? '–' : `${Math.round(n * 100)} %`);
const errs = (r) => {
  const n = Object.values(r.errors ?? {}).reduce((a, b) => a + b, 0) + (r.failed ?? 0);
  return n === 0
    ? '0'
    : `${n} (${Object.entries(r.errors ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`;
};

/** Targets from the benchmark's brief, as ratios to the no-op server. */
export const TARGETS = { 'verify-memory': 0.7, 'send-memory': 0.4, 'verify-redis': 0.5, 'send-redis': 0.3 };

export function renderMarkdown(r) {
  const lines = [];
  lines.push(`# Benchmark results`, '');
  lines.push(
    `${r.date.slice(0, 10)} · ${r.machine.cpus} × ${r.machine.cpuModel} · ${r.machine.memGiB} GiB · Node ${r.machine.node} · ${r.machine.pinned}.`,
  );
  lines.push(
    `Closed loop, ${r.settings.concurrency} calls in flight on one HTTP/2 connection, ${r.settings.warmupMs / 1000} s warm-up, ${r.settings.durationMs / 1000} s measured; gateway log level ${r.settings.logLevel}, Node flags as in the image (${(r.settings.gatewayNodeFlags ?? []).join(' ') || 'none'}); ${r.settings.memoryLimitMiB ? `every server in a ${r.settings.memoryLimitMiB} MiB memory cgroup, as in a pod with that limit` : 'no memory limit'}.`,
    `Each case ran ${r.settings.rounds} time(s), round by round in the order below; its row is its median run, its ratios the medians of the per-round ratios to that round's no-op run, its peak RSS the highest of its runs.`,
    '',
  );
  lines.push(
    '"CPU µs/call" is the server\'s CPU time (user + system, /proc) per call it answered; "CPU ratio" is the no-op server\'s figure over the case\'s: the throughput ratio the case would have if each server had its core to itself, which a shared, noisy machine does not guarantee.',
    '',
  );
  lines.push(
    '| case | calls/s | rounds (calls/s) | ratio to (a) | target | CPU µs/call | CPU ratio | p50 ms | p99 ms | p99.9 ms | p99 at half rate (ms) | peak RSS MiB | server CPU | OK (server) | errors |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const c of r.cases) {
    const p = c.peak;
    const target = TARGETS[c.id];
    const met = target === undefined ? '' : c.ratio >= target ? ` ≥ ${pct(target)} ✓` : ` ≥ ${pct(target)} ✗`;
    const rounds = (c.rounds ?? [p]).map((x) => f0(x.rps)).join(' / ');
    const rss = Math.max(...(c.rounds ?? [p]).map((x) => x.peakRss ?? 0));
    lines.push(
      `| ${c.label} | ${f0(p.rps)} | ${rounds} | ${pct(c.ratio)} | ${met} | ${f0(p.cpuUsPerCall)} | ${pct(c.cpuRatio)} | ${f2(p.p50)} | ${f2(p.p99)} | ${f2(p.p999)} | ${c.half ? `${f2(c.half.p99)} @ ${f0(c.half.rps)}/s` : '–'} | ${f0(rss)} | ${pct(p.serverCpu)} | ${f0(p.ok)} | ${errs(p)} |`,
    );
  }
  const h = r.cases.find((c) => c.h2load);
  if (h)
    lines.push(
      '',
      `Generator cross-check: h2load (-t1 -c1 -m${r.settings.concurrency}) on the no-op server: ${f0(h.h2load.rps)} calls/s.`,
    );
  const outcomes = r.cases.filter((c) => Object.keys(c.peak.outcomes ?? {}).length);
  if (outcomes.length) {
    lines.push('', 'Outcomes counted by the gateway (dtg_codes_total, warm-up included):', '');
    for (const c of outcomes)
      lines.push(
        `- ${c.label}: ${Object.entries(c.peak.outcomes)
          .map(([k, v]) => `${k} ${f0(v)}`)
          .join(', ')}`,
      );
  }
  if (r.concurrency.length) {
    lines.push('', '## Concurrency (VerifyCode, 10^5 stored codes)', '');
    lines.push(
      '| store | in flight | calls/s | p50 ms | p99 ms | p99.9 ms | peak RSS MiB | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of r.concurrency)
      lines.push(
        `| ${s.id.replace('verify-', '')} | ${s.concurrency} | ${f0(s.rps)} | ${f2(s.p50)} | ${f2(s.p99)} | ${f2(s.p999)} | ${f0(s.peakRss)} | ${errs(s)} |`,
      );
  }
  if (r.storeSize.length) {
    lines.push('', `## Stored codes (VerifyCode, ${r.settings.concurrency} in flight)`, '');
    lines.push(
      '| store | codes | seeding s | RSS idle MiB | peak RSS MiB | calls/s | p50 ms | p99 ms | p99.9 ms | errors |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const s of r.storeSize)
      lines.push(
        `| ${s.id.replace('verify-', '')} | ${f0(s.stored)} | ${f2(s.seedMs / 1000)} | ${f0(s.idleRss)} | ${f0(s.peakRss)} | ${f0(s.rps)} | ${f2(s.p50)} | ${f2(s.p99)} | ${f2(s.p999)} | ${errs(s)} |`,
      );
  }
  return `${lines.join('\n')}\n`;
}
