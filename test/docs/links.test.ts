import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { anchors, documents, links, read, root } from './markdown';

/**
 * The README leads and docs/ holds the rest: every relative link and anchor resolves,
 * every page is reachable from the README, and the README stays short.
 */
describe('documentation links', () => {
  const docs = documents();

  it.each(docs)('%s: every relative link names a file that exists, and an anchor it has', (doc) => {
    const broken: string[] = [];
    for (const { target, line } of links(doc)) {
      if (/^(https?|mailto):/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? doc : normalize(join(dirname(doc), path));
      if (!existsSync(join(root, file))) {
        broken.push(`${doc}:${line}: ${target}: no file ${file}`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!file.endsWith('.md') || statSync(join(root, file)).isDirectory()) {
        broken.push(`${doc}:${line}: ${target}: an anchor into a file that is not markdown`);
      } else if (!anchors(file).has(anchor)) {
        broken.push(`${doc}:${line}: ${target}: ${file} has no heading #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('links every page of docs/ from the README', () => {
    const fromReadme = new Set(links('README.md').map((l) => l.target.split('#')[0]));
    const unlinked = docs.filter((d) => d !== 'README.md' && !fromReadme.has(d));
    expect(unlinked).toEqual([]);
  });

  it('keeps the README to what a newcomer needs (under 300 lines)', () => {
    const lines = read('README.md').split('\n').length;
    expect(lines).toBeLessThan(300);
  });

  it('keeps the quickstart at two commands: one runs the sandbox, one the tests', () => {
    const readme = read('README.md');
    const quickstart = readme.slice(readme.indexOf('## Quickstart'));
    const block = /```sh\n([\s\S]*?)```/.exec(quickstart)![1];
    const commands = block
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['npm install && npm start', 'npm test']);
  });

  it('has headings the link checker understands (a control: a made-up anchor is not found)', () => {
    expect(anchors('README.md').has('quickstart')).toBe(true);
    expect(anchors('README.md').has('try-it-with-grpcurl')).toBe(true);
    expect(anchors('README.md').has('no-such-heading')).toBe(false);
  });
});
