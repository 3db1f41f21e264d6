import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The shape of the house, checked: imports point inward (the domain imports nothing of
 * ours with I/O, nor from verification/), and no module imports itself through others.
 */
const src = join(__dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'gen' ? [] : files(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a module (type-only ones too: a cycle of types is still a tangle). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)]
    .map((m) => resolve(dirname(file), m[1]))
    .map((p) => (p.endsWith('.ts') ? p : `${p}.ts`))
    .filter((p) => p.startsWith(src) && !p.includes(`${join(src, 'gen')}/`));
}

const graph = new Map(files(src).map((f) => [f, importsOf(f)]));
const name = (f: string) => relative(src, f);

/** Every cycle, each reported once from its smallest member. */
function cycles(): string[] {
  const found = new Set<string>();
  const visit = (start: string, at: string, path: string[]) => {
    for (const next of graph.get(at) ?? []) {
      if (next === start) {
        const cycle = [...path, start].map(name);
        const min = cycle.slice(0, -1).reduce((a, b) => (a < b ? a : b));
        if (name(start) === min) found.add(cycle.join(' → '));
      } else if (!path.includes(next) && name(next) > name(start)) {
        visit(start, next, [...path, next]);
      }
    }
  };
  for (const f of graph.keys()) visit(f, f, [f]);
  return [...found].sort();
}

describe('module structure', () => {
  it('has no import cycles', () => {
    expect(cycles()).toEqual([]);
  });

  it('keeps the domain pure: it imports only the domain and node:crypto', () => {
    const offending = [...graph.keys()]
      .filter((f) => name(f).startsWith('domain/'))
      .flatMap((f) => {
        const text = readFileSync(f, 'utf8');
        const bare = [...text.matchAll(/from\s+'([^.][^']*)'/g)].map((m) => m[1]);
        const ours = (graph.get(f) ?? []).map(name).filter((n) => !n.startsWith('domain/'));
        return [...bare.filter((b) => b !== 'node:crypto'), ...ours].map((i) => `${name(f)} imports ${i}`);
      });
    expect(offending).toEqual([]);
  });

  it('finds a cycle when there is one (a control for the check above)', () => {
    const a = join(src, 'a.ts');
    const b = join(src, 'b.ts');
    graph.set(a, [b]);
    graph.set(b, [a]);
    try {
      expect(cycles()).toEqual(['a.ts → b.ts → a.ts']);
    } finally {
      graph.delete(a);
      graph.delete(b);
    }
  });
});
