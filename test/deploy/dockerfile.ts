import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One Dockerfile instruction, continuation lines joined and build ARGs substituted. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword. */
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/**
 * A small Dockerfile reader for what this repository's Dockerfile uses: comments,
 * line continuations, global ARGs with defaults (substituted in FROM), named stages.
 */
export function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    if (line.startsWith('#')) return; // a comment inside a continued instruction
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s*(.*)$/s.exec(full)!;
    instructions.push({ keyword: m[1].toUpperCase(), args: m[2], line: start });
  });
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'ARG' && stages.length === 0) {
      const [k, v = ''] = ins.args.split('=');
      globalArgs[k.trim()] = v.trim();
    } else if (ins.keyword === 'FROM') {
      const sub = ins.args.replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_, a: string, b: string) => globalArgs[a ?? b] ?? '',
      );
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(sub);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ image: m[1], name: m[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0) {
      throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
    } else {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return stages;
}

/** ENV in both forms: `ENV A=1 B="two"` and the legacy `ENV A 1`. */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args.includes('=')) {
    const [k, ...rest] = args.split(/\s+/);
    out[k] = rest.join(' ');
    return out;
  }
  for (const [, k, quoted, bare] of args.matchAll(/(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g))
    out[k] = quoted ?? bare;
  return out;
}

/** COPY [--from=…] [--chown=…] src… dest (shell form). */
export function parseCopy(args: string): { from?: string; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
}

/** An exec-form (JSON array) command; shell form is refused so signals reach node directly. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
    throw new Error(`not an exec-form command: ${args}`);
  return parsed;
}

/** HEALTHCHECK [--opt=value …] CMD [json]. */
export function parseHealthcheck(args: string): { options: Record<string, string>; command: string[] } {
  const m = /^((?:--\S+\s+)*)CMD\s+(.*)$/s.exec(args);
  if (!m) throw new Error(`HEALTHCHECK without CMD: ${args}`);
  const options = Object.fromEntries(
    m[1]
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((o) => o.slice(2).split('=') as [string, string]),
  );
  return { options, command: execForm(m[2]) };
}

/** Docker's .dockerignore matching: `*`, `**`, `?`, `!` exceptions; the last matching line wins. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const body = pattern
        .split('/')
        .map((seg) =>
          seg === '**'
            ? '.*'
            : seg
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/');
      // A pattern that matches a directory excludes everything below it.
      return { negate, re: new RegExp(`^${body}(/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
    return ignored;
  };
}

/**
 * The files `docker build .` would send from this working tree: tracked and untracked
 * files that git does not ignore (so no node_modules or dist), minus .dockerignore.
 */
export function buildContext(root: string): string[] {
  const ignored = dockerignore(readFileSync(join(root, '.dockerignore'), 'utf8'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  const deleted = new Set(
    execFileSync('git', ['ls-files', '-z', '--deleted'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean),
  );
  return [...new Set(listed)].filter((p) => !deleted.has(p) && !ignored(p));
}
