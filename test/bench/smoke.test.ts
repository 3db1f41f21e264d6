import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execForm, parseDockerfile } from '../deploy/dockerfile';

/**
 * `npm run bench` in its tiny mode (about a second per case, no sweeps), so the
 * benchmark cannot rot. It checks that every case ran and answered, and that the
 * report, the JSON and the chart are well-formed; it asserts nothing about speed.
 */
const root = join(__dirname, '..', '..');

describe('benchmark smoke run', () => {
  let out: string;
  let results: {
    cases: Array<{ id: string; peak: { ok: number; completed: number; errors: Record<string, number> } }>;
    settings: { gatewayNodeFlags: string[] };
  };
  let markdown: string;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'dtg-bench-smoke-'));
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [join(root, 'bench', 'run.mjs'), '--smoke', '--out', out],
        { cwd: root, timeout: 150_000 },
        (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve()),
      ),
    );
    results = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8'));
    markdown = readFileSync(join(out, 'smoke.md'), 'utf8');
  }, 180_000);

  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('ran the no-op server and the gateway cases, each with calls answered OK and no errors', () => {
    const ids = results.cases.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['bare', 'noop', 'verify-memory', 'send-memory']));
    for (const c of results.cases) {
      expect(c.peak.ok).toBeGreaterThan(0);
      expect(c.peak.completed).toBeGreaterThan(0);
      expect(c.peak.errors).toEqual({});
    }
  });

  it("runs the gateway with the container image's Node flags", () => {
    const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
    const entrypoint = stages
      .at(-1)!
      .instructions.filter((i) => i.keyword === 'ENTRYPOINT')
      .map((i) => execForm(i.args))
      .pop()!;
    expect(entrypoint.at(-1)).toBe('dist/main.js');
    expect(results.settings.gatewayNodeFlags).toEqual(entrypoint.slice(1, -1));
  });

  it('writes a table with one row per case and an SVG chart', () => {
    const rows = markdown.split('\n').filter((l) => l.startsWith('| ('));
    expect(rows).toHaveLength(results.cases.length);
    const header = markdown.split('\n').find((l) => l.startsWith('| case |'))!;
    const columns = header.split('|').length;
    for (const row of rows) expect(row.split('|')).toHaveLength(columns);
    expect(readFileSync(join(out, 'smoke-chart.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
  });
});
