// A dependency-free SVG chart of a benchmark run: throughput per case against the
// no-op server (left) and p99 latency against calls in flight (right).
const esc = (s) =>
  String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** One colour per store: Redis red, MySQL green, memory (and the rest) blue. */
const storeColor = (id) => (id.includes('redis') ? '#c0392b' : id.includes('mysql') ? '#1e8449' : '#2e86c1');

export function renderChart(r) {
  const W = 960;
  const H = 400;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text x="20" y="24" font-size="15" font-weight="bold">dingtalk-gateway benchmark, ${esc(r.date.slice(0, 10))}, ${r.machine.cpus} CPUs, Node ${esc(r.machine.node)}</text>`,
  );

  // Left: calls/s per case.
  const x0 = 60;
  const y0 = 340;
  // Bars narrow as cases are added, so the left chart keeps clear of the right one (at x 540).
  const slot = Math.min(82, Math.floor(460 / Math.max(1, r.cases.length)));
  const bw = slot - 12;
  const ph = 230;
  const max = Math.max(1, ...r.cases.map((c) => c.peak.rps));
  out.push(`<text x="${x0}" y="56" font-weight="bold">calls/s (ratio to the no-op server)</text>`);
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x0 + r.cases.length * slot}" y2="${y0}" stroke="#333"/>`);
  r.cases.forEach((c, i) => {
    const h = (c.peak.rps / max) * ph;
    const x = x0 + i * slot;
    const fill = c.id === 'noop' ? '#999' : storeColor(c.id);
    out.push(`<rect x="${x}" y="${y0 - h}" width="${bw}" height="${h}" fill="${fill}"/>`);
    out.push(
      `<text x="${x + bw / 2}" y="${y0 - h - 18}" text-anchor="middle">${Math.round(c.peak.rps)}</text>`,
    );
    out.push(
      `<text x="${x + bw / 2}" y="${y0 - h - 5}" text-anchor="middle">${c.ratio === undefined ? '' : `${Math.round(c.ratio * 100)} %`}</text>`,
    );
    out.push(
      `<text x="${x + bw / 2}" y="${y0 + 16}" text-anchor="middle" font-size="10">${esc(c.id)}</text>`,
    );
  });

  // Right: p99 vs in-flight calls, log-log.
  const rx = 540;
  const rw = 380;
  const series = {};
  for (const s of r.concurrency) (series[s.id] ??= []).push(s);
  const all = r.concurrency.map((s) => s.p99).filter((v) => v > 0);
  out.push(`<text x="${rx}" y="56" font-weight="bold">VerifyCode p99 latency (ms) vs calls in flight</text>`);
  if (all.length) {
    const lo = Math.log10(Math.min(...all) / 1.5);
    const hi = Math.log10(Math.max(...all) * 1.5);
    const X = (c) => rx + (Math.log10(c) / 3) * rw;
    const Y = (v) => y0 - ((Math.log10(v) - lo) / (hi - lo)) * ph;
    out.push(
      `<line x1="${rx}" y1="${y0}" x2="${rx + rw}" y2="${y0}" stroke="#333"/><line x1="${rx}" y1="${y0}" x2="${rx}" y2="${y0 - ph}" stroke="#333"/>`,
    );
    for (const c of [1, 10, 100, 1000])
      out.push(`<text x="${X(c)}" y="${y0 + 16}" text-anchor="middle">${c}</text>`);
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++)
      out.push(
        `<text x="${rx - 6}" y="${Y(10 ** e) + 4}" text-anchor="end">${10 ** e}</text><line x1="${rx}" y1="${Y(10 ** e)}" x2="${rx + rw}" y2="${Y(10 ** e)}" stroke="#eee"/>`,
      );
    Object.entries(series).forEach(([id, pts], i) => {
      const color = storeColor(id);
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${X(p.concurrency)},${Y(p.p99)}`).join(' ')}"/>`,
      );
      for (const p of pts)
        out.push(`<circle cx="${X(p.concurrency)}" cy="${Y(p.p99)}" r="3" fill="${color}"/>`);
      out.push(`<text x="${rx + rw - 120}" y="${80 + i * 16}" fill="${color}">${esc(id)}</text>`);
    });
  } else {
    out.push(`<text x="${rx}" y="120">(no concurrency sweep in this run)</text>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
