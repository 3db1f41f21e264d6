// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by file.
// Usage: node bench/profile-summary.mjs <file.cpuprofile> [top]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas;
for (let i = 0; i < p.samples.length; i++)
  self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const group = (key) => {
  const m = new Map();
  for (const [id, t] of self) {
    const k = key(byId.get(id).callFrame);
    m.set(k, (m.get(k) ?? 0) + t);
  }
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
};
const short = (url) =>
  url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/(dist|bench)\//, '$1/') || '(native)';
const show = (title, rows) => {
  console.log(`\n${title}`);
  for (const [k, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`);
};
show(
  'self time by function',
  group((f) => `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`),
);
show(
  'self time by file',
  group((f) => short(f.url).split(':')[0]),
);

// Inclusive time (self + callees) by function, counting each function once per stack.
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, t] of self) {
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    const k = `${f.functionName || '(anonymous)'}  ${short(f.url)}:${f.lineNumber + 1}`;
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
show(
  'inclusive time by function (ours and the loggers)',
  [...incl]
    .filter(([k]) => /dist\/|pino|redact|prom-client|axios/.test(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top),
);
