import { Keyv } from 'keyv';
import type { StoredSettings } from '../domain/settings';
import type { Binding } from '../domain/binding';
import { isCompared, type AttemptSnapshot, type CodeRecord } from '../domain/code';
import type { DeliveryRecord } from '../domain/delivery';
import type { LoginState } from '../domain/login';
import { storeUnavailable } from '../domain/errors';
import { decideSend, decideSends } from '../domain/policy';
import type { VerificationStore } from '../verification/ports';
import { subjectKey } from './keys';
import { createMemoryFailures, type FailureEntry } from './memory-failures';
import { createMemoryIdempotency, type IdempotencyEntry } from './memory-idempotency';
import { createMemoryMobiles, type MobileEntry } from './memory-mobiles';
import { createMemoryRecalls } from './memory-recalls';

export interface MemoryStoreOptions {
  /** The store's own clock for retention (ms). Default Date.now. */
  now?: () => number;
  /** How often a slice of entries is checked for expiry and deleted. Default 1000 ms. */
  sweepIntervalMs?: number;
  /** Entries checked per slice. Default 20 000. */
  sweepSliceSize?: number;
}

interface CodeEntry {
  record: CodeRecord;
  attempts: number;
  used: boolean;
  retainUntil: number;
}

interface SendEntry {
  sends: number[];
  retainUntil: number;
}

interface DeliveryEntry {
  record: DeliveryRecord;
  retainUntil: number;
}

interface SlotEntry {
  /** The next free start time. */
  next: number;
  retainUntil: number;
}

/**
 * The embedded default: one process, no persistence. Every atomic operation is a
 * synchronous read-modify-write between two awaits, so the event loop orders
 * concurrent calls exactly as a lock would. Bindings go through Keyv (its in-memory
 * Map, objects copied in and out) like the other backends; codes, deliveries, send
 * histories and call schedules, written on every send, are plain Maps so the hot path
 * does no serialisation (Keyv's serialiser kept each delivery record as some forty
 * string fragments, 3 KB apiece, for its 24 hours). Expired entries are ignored on read
 * and swept periodically, so memory stays bounded by what is still retained.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): VerificationStore {
  const now = options.now ?? Date.now;
  const codes = new Map<string, CodeEntry>();
  const sends = new Map<string, SendEntry>();
  const slots = new Map<string, SlotEntry>();
  // Kept as objects, not JSON: the store copies a binding in and out instead, which is what the
  // serialiser's round trip was for, at a fraction of its cost (a delivery by mobile binds a user).
  const bindings = new Keyv<Binding>({
    namespace: 'binding',
    throwOnErrors: true,
    serialize: undefined,
    deserialize: undefined,
  });
  const deliveries = new Map<string, DeliveryEntry>();
  const secrets = new Map<string, string>();
  // The newest code per subject, which a newer one's recall replaces (see memory-recalls.ts).
  const latestCodes = new Map<string, { id: string; createdAt: number; retainUntil: number }>();
  // Started DingTalk logins by state key, each taken at most once.
  const loginStates = new Map<string, { record: LoginState; retainUntil: number }>();
  // Idempotency keys (their hashes), pending while a call works, then its stored response.
  const idempotency = new Map<string, IdempotencyEntry>();
  // Failed verifications per subject, across its codes (see memory-failures.ts).
  const failureEntries = new Map<string, FailureEntry>();
  const failures = createMemoryFailures(failureEntries, now);
  // getbymobile's answers by a keyed hash of the number (see memory-mobiles.ts).
  const mobiles = new Map<string, MobileEntry>();
  let settings: StoredSettings | undefined;
  let closed = false;

  const live = <T extends { retainUntil: number }>(map: Map<string, T>, key: string): T | undefined => {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.retainUntil <= now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  // The sweep walks the maps a slice at a time: one pass over a million codes would hold the
  // event loop for tens of milliseconds. Map iterators stay valid while entries are deleted
  // and added, so each slice resumes where the last one stopped.
  const maps = [
    codes,
    deliveries,
    sends,
    slots,
    latestCodes,
    loginStates,
    idempotency,
    failureEntries,
    mobiles,
  ] as Map<string, { retainUntil: number }>[];
  const sliceSize = options.sweepSliceSize ?? 20_000;
  let which = 0;
  let cursor = maps[0].entries();
  const sweep = () => {
    const t = now();
    for (let checked = 0, turns = 0; checked < sliceSize && turns < maps.length;) {
      const next = cursor.next();
      if (next.done) {
        which = (which + 1) % maps.length;
        cursor = maps[which].entries();
        turns += 1;
        continue;
      }
      const [key, entry] = next.value;
      if (entry.retainUntil <= t) maps[which].delete(key);
      checked += 1;
    }
  };
  const sweeper = setInterval(sweep, options.sweepIntervalMs ?? 1000);
  sweeper.unref();
  const open = (operation: string) => {
    if (closed) throw storeUnavailable(operation, new Error('the memory store is closed'));
  };

  return {
    kind: 'memory',

    async reserveSend(subject, rule, at) {
      open('reserveSend');
      const key = subjectKey(subject);
      const decision = decideSend(live(sends, key)?.sends ?? [], at, rule);
      if (decision.allowed) sends.set(key, { sends: decision.history, retainUntil: now() + rule.windowMs });
      return decision;
    },

    async releaseSend(subject, at) {
      open('releaseSend');
      const entry = live(sends, subjectKey(subject));
      const i = entry?.sends.indexOf(at) ?? -1;
      if (entry && i >= 0) entry.sends.splice(i, 1);
    },

    async reserveSends(reservations, at) {
      open('reserveSends');
      const keys = reservations.map((r) => subjectKey(r.subject));
      const { decision, histories } = decideSends(
        keys.map((k) => live(sends, k)?.sends ?? []),
        at,
        reservations.map((r) => r.rule),
      );
      if (decision.allowed)
        keys.forEach((k, i) =>
          sends.set(k, { sends: histories[i], retainUntil: now() + reservations[i].rule.windowMs }),
        );
      return decision;
    },

    async clearSends(subject) {
      open('clearSends');
      sends.delete(subjectKey(subject));
    },

    async takeSlot(name, intervalMs, at, maxWaitMs) {
      open('takeSlot');
      const startAt = Math.max(live(slots, name)?.next ?? at, at);
      if (startAt - at > maxWaitMs) return { reserved: false, startAt };
      slots.set(name, { next: startAt + intervalMs, retainUntil: now() + startAt + intervalMs - at });
      return { reserved: true, startAt };
    },

    async saveCode(subject, record, retainMs) {
      open('saveCode');
      codes.set(subjectKey(subject), {
        record: { ...record },
        attempts: 0,
        used: false,
        retainUntil: now() + retainMs,
      });
    },

    async discardCode(subject, id) {
      open('discardCode');
      const key = subjectKey(subject);
      if (live(codes, key)?.record.id === id) codes.delete(key);
    },

    async countAttempt(subject, check): Promise<AttemptSnapshot> {
      open('countAttempt');
      const key = subjectKey(subject);
      const lockedUntil = check ? failures.lockedUntil(key, check.now) : 0;
      if (lockedUntil > 0) return { state: 'locked', lockedUntil };
      const entry = live(codes, key);
      if (entry === undefined) return { state: 'missing' };
      if (entry.used) return { state: 'used', id: entry.record.id };
      entry.attempts += 1;
      const counted = { state: 'counted', record: { ...entry.record }, attempts: entry.attempts } as const;
      if (!check || !isCompared(entry.record, entry.attempts, check.now)) return counted;
      const locked = failures.count(key, check);
      return locked === undefined ? counted : { ...counted, lockedUntil: locked };
    },

    async lockedUntil(subject, at) {
      open('lockedUntil');
      return failures.lockedUntil(subjectKey(subject), at);
    },

    async consumeCode(subject, id) {
      open('consumeCode');
      const key = subjectKey(subject);
      const entry = live(codes, key);
      if (entry === undefined || entry.used || entry.record.id !== id) return false;
      entry.used = true;
      failures.clear(key);
      return true;
    },

    async getBinding(userId) {
      open('getBinding');
      const found = await bindings.get(userId);
      return found ? { ...found } : undefined;
    },

    async putBinding(binding) {
      open('putBinding');
      await bindings.set(binding.userId, { ...binding });
    },

    async deleteBinding(userId) {
      open('deleteBinding');
      return bindings.delete(userId);
    },

    async putDelivery(record, retainMs) {
      open('putDelivery');
      deliveries.set(record.verificationId, { record: { ...record }, retainUntil: now() + retainMs });
    },

    async getDelivery(verificationId) {
      open('getDelivery');
      const entry = live(deliveries, verificationId);
      return entry === undefined ? undefined : { ...entry.record };
    },

    ...createMemoryRecalls(open, latestCodes, now),

    ...createMemoryIdempotency(open, idempotency, now),

    ...createMemoryMobiles(open, mobiles, now),

    async getOrCreateSecret(name, candidate) {
      open('getOrCreateSecret');
      const existing = secrets.get(name);
      if (existing !== undefined) return existing;
      secrets.set(name, candidate);
      return candidate;
    },

    async replaceSecret(name, expected, next) {
      open('replaceSecret');
      const current = secrets.get(name) ?? '';
      if (current !== expected) return current;
      secrets.set(name, next);
      return next;
    },

    async readSettings() {
      open('readSettings');
      return settings === undefined ? undefined : structuredClone(settings);
    },

    async writeSettings(expectedVersion, next) {
      open('writeSettings');
      if ((settings?.version ?? 0) !== expectedVersion) return false;
      settings = structuredClone(next);
      return true;
    },

    async putLoginState(key, record, retainMs) {
      open('putLoginState');
      loginStates.set(key, { record: { ...record }, retainUntil: now() + retainMs });
    },

    async takeLoginState(key) {
      open('takeLoginState');
      const entry = live(loginStates, key);
      loginStates.delete(key);
      return entry === undefined ? undefined : { ...entry.record };
    },

    async ping() {
      open('ping');
    },

    async close() {
      closed = true;
      clearInterval(sweeper);
    },
  };
}
