/**
 * Bounds operations that all get the same time, with one timer for all of them instead of one
 * per operation: on a hot path (every store command, every hook request) a timer, a second
 * promise and a race per operation cost more than the rest of the bookkeeping together.
 *
 * Operations start in time order and share one timeout, so their deadlines come in the order
 * they were added: a FIFO queue is also the deadline order. One timer is armed for the oldest
 * pending deadline; an operation that settles only marks its entry, and settled entries at the
 * head are dropped as they are reached. A late reply is ignored (its promise was settled).
 */
export interface Deadlines {
  /**
   * Resolves with `work`'s value; rejects with `failure(cause)` when `work` rejects, or when
   * `timeoutMs` passed first (the cause is then the `late()` given at creation). Settles once,
   * whatever `work` does afterwards.
   */
  bound<T>(work: Promise<T>, failure: (cause: unknown) => Error): Promise<T>;
  /** Pending operations (for tests). */
  pending(): number;
}

interface Entry {
  at: number;
  settled: boolean;
  fail: (() => void) | undefined;
}

export function createDeadlines(
  timeoutMs: number,
  late: () => Error,
  now: () => number = () => performance.now(),
): Deadlines {
  let queue: Entry[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let open = 0;

  const drop = () => {
    while (head < queue.length && queue[head].settled) head++;
    // Compact once the dropped part dominates, so the array does not grow without bound.
    if (head > 1024 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
  };

  const expire = () => {
    timer = undefined;
    const t = now();
    while (head < queue.length) {
      const e = queue[head];
      if (!e.settled) {
        if (e.at > t) break;
        e.settled = true;
        open--;
        e.fail!();
        e.fail = undefined;
      }
      head++;
    }
    drop();
    arm();
  };

  const arm = () => {
    if (timer !== undefined || head >= queue.length) return;
    timer = setTimeout(expire, Math.max(0, queue[head].at - now()) + 1);
    // What is bounded keeps the process alive by itself where it must (a socket); the bound must not.
    timer.unref();
  };

  return {
    bound<T>(work: Promise<T>, failure: (cause: unknown) => Error): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const entry: Entry = { at: now() + timeoutMs, settled: false, fail: () => reject(failure(late())) };
        queue.push(entry);
        open++;
        arm();
        const settle = () => {
          if (entry.settled) return false;
          entry.settled = true;
          entry.fail = undefined;
          open--;
          if (queue[head] === entry) drop();
          return true;
        };
        work.then(
          (value) => {
            if (settle()) resolve(value);
          },
          (error: unknown) => {
            if (settle()) reject(failure(error));
          },
        );
      });
    },
    pending: () => open,
  };
}
