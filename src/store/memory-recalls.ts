import type { RecallEntry } from '../domain/recall';
import type { VerificationStore } from '../verification/ports';
import { subjectKey } from './keys';

type RecallMethods = Pick<
  VerificationStore,
  'scheduleRecall' | 'expediteRecall' | 'claimDueRecalls' | 'rescheduleRecall'
>;

interface Listed {
  entry: RecallEntry;
  /** Which heap node is this entry's current one; older nodes are skipped when popped. */
  version: number;
}

interface Node {
  dueAt: number;
  id: string;
  version: number;
}

/** The newest code of a subject, for as long as it may still be replaced. */
interface Latest {
  id: string;
  createdAt: number;
  retainUntil: number;
}

/**
 * The in-memory recall due list: entries by id, ordered by a binary min-heap on the due time
 * so a claim costs O(k log n) however many codes wait for their expiry. Changing an entry's
 * due time pushes a new node and leaves the old one to be skipped (lazy deletion). Every
 * method runs synchronously between two awaits, so each is atomic as the memory store's others.
 * `open` throws when the store is closed; `latest` is a Map the store sweeps.
 */
export function createMemoryRecalls(
  open: (operation: string) => void,
  latest: Map<string, Latest>,
  now: () => number,
): RecallMethods {
  const listed = new Map<string, Listed>();
  const heap: Node[] = [];
  let versions = 0;

  const less = (a: Node, b: Node) => a.dueAt < b.dueAt;
  const push = (node: Node) => {
    heap.push(node);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const pop = (): Node | undefined => {
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
    return top;
  };
  const list = (entry: RecallEntry) => {
    const version = ++versions;
    listed.set(entry.verificationId, { entry: { ...entry }, version });
    push({ dueAt: entry.dueAt, id: entry.verificationId, version });
  };
  /** An entry still waiting for its code's expiry (not approved or locked, not due yet). */
  const waiting = (e: RecallEntry, at: number) => e.reason === 'expired' && e.dueAt > at;

  return {
    async scheduleRecall(entry, at) {
      open('scheduleRecall');
      const key = subjectKey(entry);
      const t = now();
      const known = latest.get(key);
      const current = known && known.retainUntil > t ? known : undefined;
      if (current && current.id !== entry.verificationId && current.createdAt > entry.createdAt) {
        list({ ...entry, dueAt: Math.min(entry.dueAt, at), reason: 'replaced' });
        return;
      }
      const older = current && current.id !== entry.verificationId ? listed.get(current.id) : undefined;
      if (older && waiting(older.entry, at)) list({ ...older.entry, dueAt: at, reason: 'replaced' });
      latest.set(key, {
        id: entry.verificationId,
        createdAt: entry.createdAt,
        retainUntil: t + Math.max(0, entry.dueAt - at) + 60_000,
      });
      list(entry);
    },

    async expediteRecall(id, reason, at) {
      open('expediteRecall');
      const found = listed.get(id);
      if (!found) return false;
      list({ ...found.entry, dueAt: Math.min(found.entry.dueAt, at), reason });
      return true;
    },

    async claimDueRecalls(at, limit) {
      open('claimDueRecalls');
      const out: RecallEntry[] = [];
      while (out.length < limit && heap.length > 0 && heap[0].dueAt <= at) {
        const node = pop()!;
        const found = listed.get(node.id);
        if (!found || found.version !== node.version) continue; // superseded
        listed.delete(node.id);
        out.push(found.entry);
      }
      return out;
    },

    async rescheduleRecall(entry) {
      open('rescheduleRecall');
      list(entry);
    },
  };
}
