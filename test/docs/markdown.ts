import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');

/** README.md and every page under docs/, as paths relative to the repository. */
export function documents(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export const read = (doc: string): string => readFileSync(join(root, doc), 'utf8');

/** One shell command of a document: continuation lines joined, its trailing comment apart. */
export interface ShellCommand {
  doc: string;
  /** 1-based line of the command's first line. */
  line: number;
  /** The command as a user would paste it, without the trailing comment. */
  text: string;
  /** The words the shell would pass to the program. */
  argv: string[];
  /** The comment after the command on its last line, without `#`. */
  comment: string;
}

/**
 * Every command in the document's ```sh blocks, in order. A line ending in a backslash
 * continues on the next; comment lines and blank lines are skipped.
 */
export function shellCommands(doc: string): ShellCommand[] {
  const lines = read(doc).split('\n');
  const out: ShellCommand[] = [];
  let inSh = false;
  let fenceIndent = '';
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\S*)\s*$/.exec(lines[i]);
    if (fence) {
      if (!inSh && fence[2] === 'sh') {
        inSh = true;
        fenceIndent = fence[1];
      } else if (inSh && fence[1] === fenceIndent) {
        inSh = false;
      }
      continue;
    }
    if (!inSh) continue;
    const start = i;
    let text = lines[i].trim();
    if (text === '' || text.startsWith('#')) continue;
    while (text.endsWith('\\') && i + 1 < lines.length) {
      text = `${text.slice(0, -1).trimEnd()} ${lines[++i].trim()}`;
    }
    const { words, comment } = splitWords(text);
    const commentAt = comment === undefined ? text.length : text.lastIndexOf(`#${comment}`);
    out.push({
      doc,
      line: start + 1,
      text: text.slice(0, commentAt).trim(),
      argv: words,
      comment: (comment ?? '').trim(),
    });
  }
  return out;
}

/**
 * Splits a command line into words the way sh does for the forms the docs use: single
 * quotes, double quotes with backslash escapes, backslashes, and a `#` comment at the start
 * of a word. `$(…)` and variables are not expanded: a command using them is not runnable here.
 */
export function splitWords(line: string): { words: string[]; comment?: string } {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      return { words, comment: line.slice(i + 1) };
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let s = '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        s += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      word = (word ?? '') + s;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return { words };
}

/** The markdown links of a document (inline form), with their 1-based line. */
export function links(doc: string): Array<{ target: string; line: number }> {
  const out: Array<{ target: string; line: number }> = [];
  let inCode = false;
  read(doc)
    .split('\n')
    .forEach((text, i) => {
      if (/^\s*```/.test(text)) inCode = !inCode;
      if (inCode) return;
      const prose = text.replace(/`[^`]*`/g, '');
      for (const m of prose.matchAll(/\]\(([^)\s]+)\)|<(https?:\/\/[^>\s]+)>/g)) {
        out.push({ target: m[1] ?? m[2], line: i + 1 });
      }
    });
  return out;
}

/** The anchors GitHub gives a document's headings, and its explicit `<a id="…">` anchors. */
export function anchors(doc: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let inCode = false;
  for (const text of read(doc).split('\n')) {
    if (/^\s*```/.test(text)) inCode = !inCode;
    if (inCode) continue;
    for (const a of text.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(a[1]);
    const h = !inCode && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!h) continue;
    const base = h[1]
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
