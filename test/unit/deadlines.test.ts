import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createDeadlines } from '../../src/deadlines';

/** A promise settled from outside, as a store command's reply is. */
function pendingWork<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const failure = (cause: unknown) => new Error(`store: ${(cause as Error).message}`);
const late = () => new Error('no answer within the bound');

describe('deadlines (one timer bounding every store operation)', () => {
  it('passes a value and maps a failure', async () => {
    const d = createDeadlines(1000, late);
    await expect(d.bound(Promise.resolve(7), failure)).resolves.toBe(7);
    await expect(d.bound(Promise.reject(new Error('refused')), failure)).rejects.toThrow('store: refused');
    expect(d.pending()).toBe(0);
  });

  it('rejects an operation that outlives the bound, and ignores its late reply', async () => {
    const d = createDeadlines(40, late);
    const work = pendingWork<number>();
    const started = performance.now();
    const bounded = d.bound(work.promise, failure);
    await expect(bounded).rejects.toThrow('store: no answer within the bound');
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
    work.resolve(1); // the reply that came too late changes nothing
    await expect(bounded).rejects.toThrow('no answer');
    expect(d.pending()).toBe(0);
  });

  it('times out only the stalled operations, in order, while others keep settling', async () => {
    const d = createDeadlines(60, late);
    const stalled = [pendingWork<string>(), pendingWork<string>()];
    const outcomes: string[] = [];
    const first = d.bound(stalled[0].promise, failure).catch((e: Error) => outcomes.push(`0 ${e.message}`));
    // Many quick operations between the two stalled ones: they settle and must not be timed out.
    const quick = Array.from({ length: 3000 }, (_, i) => d.bound(Promise.resolve(i), failure));
    await expect(Promise.all(quick)).resolves.toHaveLength(3000);
    await new Promise((r) => setTimeout(r, 20));
    const second = d.bound(stalled[1].promise, failure).catch((e: Error) => outcomes.push(`1 ${e.message}`));
    const answered = pendingWork<string>();
    const third = d.bound(answered.promise, failure);
    answered.resolve('in time');
    await expect(third).resolves.toBe('in time');
    await first;
    // The first has timed out; the second, started 20 ms later, has not yet.
    expect(outcomes).toEqual(['0 store: no answer within the bound']);
    expect(d.pending()).toBe(1);
    await second;
    expect(outcomes).toEqual(['0 store: no answer within the bound', '1 store: no answer within the bound']);
    expect(d.pending()).toBe(0);
  });

  it('keeps bounding after an idle spell (the timer is armed again)', async () => {
    const d = createDeadlines(30, late);
    await expect(d.bound(pendingWork<void>().promise, failure)).rejects.toThrow('no answer');
    await new Promise((r) => setTimeout(r, 50));
    await expect(d.bound(pendingWork<void>().promise, failure)).rejects.toThrow('no answer');
    await expect(d.bound(Promise.resolve('after'), failure)).resolves.toBe('after');
  });

  it('does not keep the process alive by itself', () => {
    // A process whose only pending work is a bounded operation with a minute's bound exits at
    // once: a ref'd timer would hold it for that minute (and execFileSync would time out).
    const script = `const { createDeadlines } = require(${JSON.stringify(join(__dirname, '../../dist/deadlines.js'))});
      createDeadlines(60000, () => new Error('late')).bound(new Promise(() => {}), (e) => e).catch(() => {});`;
    expect(() => execFileSync(process.execPath, ['-e', script], { timeout: 20_000 })).not.toThrow();
  });
});
