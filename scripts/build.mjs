#!/usr/bin/env node
// Compiles src/ to dist/ (tsconfig.build.json), then removes what dist/ holds of sources that
// no longer exist: a stale dist/config.js would shadow dist/config/index.js for require('./config').
// Files are never removed before the compile, so a gateway running from dist/ keeps working.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const src = join(root, 'src');

execFileSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

/** The source a compiled file came from: a.js, a.js.map and a.d.ts all come from a.ts. */
const sourceOf = (file) => join(src, relative(dist, file).replace(/(\.d\.ts|\.js\.map|\.js)$/, '.ts'));

function prune(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      prune(p);
      if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
    } else if (/\.(js|js\.map|d\.ts)$/.test(name) && !existsSync(sourceOf(p))) {
      rmSync(p);
    }
  }
}
if (existsSync(dist)) prune(dist);
