import type { Binding } from '../domain/binding';
import type { AttemptSnapshot, CodeRecord } from '../domain/code';
import type { DeliveryRecord, SendResult } from '../domain/delivery';
import type { StoredSettings } from '../domain/settings';
import type { SendDecision, SendRule } from '../domain/policy';
import type { ScenarioName } from '../domain/scenario';

/** Whose code: one identity user in one scenario. */
export interface Subject {
  userId: string;
  scenario: ScenarioName;
}

export interface Slot {
  reserved: boolean;
  startAt: number;
}

/** Whose sends are limited: a user in a scenario, or an end user's IP address across scenarios. */
export interface SendSubject {
  userId: string;
  scenario: ScenarioName | 'client_ip';
}

/**
 * Persistence the verification service needs. Every method either succeeds or
 * throws a GatewayFailure of kind `store_unavailable`; a backend error must never
 * look like "missing". Methods marked atomic must hold across every process
 * sharing the backend.
 */
export interface VerificationStore {
  readonly kind: 'memory' | 'redis' | 'postgres';
  /** Atomic: applies `decideSend` to the subject's send history and records `now` when allowed. */
  reserveSend(subject: SendSubject, rule: SendRule, now: number): Promise<SendDecision>;
  /** Removes the send recorded at `at` (a reservation whose delivery failed). */
  releaseSend(subject: SendSubject, at: number): Promise<void>;
  /**
   * Atomic: books the next free start time under `name`, calls being spaced at least
   * `intervalMs` apart (a shared schedule: GCRA without burst). The start is never before
   * `now`. When it would be more than `maxWaitMs` after `now`, nothing is booked and
   * `reserved` is false, with `startAt` the earliest start there was.
   */
  takeSlot(name: string, intervalMs: number, now: number, maxWaitMs: number): Promise<Slot>;
  /** Stores `record` as the subject's one outstanding code (attempts 0, unused), replacing any other; kept `retainMs`. */
  saveCode(subject: Subject, record: CodeRecord, retainMs: number): Promise<void>;
  /** Deletes the outstanding code if its id is `id`. */
  discardCode(subject: Subject, id: string): Promise<void>;
  /** Atomic: counts one submission against the outstanding code and returns it with the new count. */
  countAttempt(subject: Subject): Promise<AttemptSnapshot>;
  /** Atomic: marks the code `id` used; true for exactly one caller. */
  consumeCode(subject: Subject, id: string): Promise<boolean>;
  getBinding(userId: string): Promise<Binding | undefined>;
  putBinding(binding: Binding): Promise<void>;
  /** True when a binding was removed. */
  deleteBinding(userId: string): Promise<boolean>;
  /** Stores what is known of a sent code's delivery, replacing an earlier record; kept `retainMs`. */
  putDelivery(record: DeliveryRecord, retainMs: number): Promise<void>;
  getDelivery(verificationId: string): Promise<DeliveryRecord | undefined>;
  /** Atomic set-if-absent: stores `candidate` under `name` unless a value exists; returns the value in force. */
  getOrCreateSecret(name: string, candidate: string): Promise<string>;
  /** The runtime settings document every replica applies; undefined until one is stored. */
  readSettings(): Promise<StoredSettings | undefined>;
  /**
   * Atomic compare-and-set: stores `next` only when the stored version is `expectedVersion`
   * (0: none stored yet). False when another change came first.
   */
  writeSettings(expectedVersion: number, next: StoredSettings): Promise<boolean>;
  /** Throws store_unavailable when the backend cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Structured events for the audit log; never carries a code or a mobile number. */
export interface AuditSink {
  (event: string, fields: Record<string, unknown>): void;
}

/** A markdown work notification. */
export interface Markdown {
  title: string;
  text: string;
}

export interface DingTalkUser {
  userId: string;
  name: string;
  active: boolean;
}

/**
 * DingTalk as the service sees it. Every method throws a GatewayFailure of kind
 * `upstream` (classified errcode) or `cancelled` (signal aborted).
 * Look-ups return undefined when DingTalk says the user does not exist.
 */
export interface DingTalkPort {
  sendMarkdown(userId: string, message: Markdown, signal?: AbortSignal): Promise<{ taskId: string }>;
  getSendResult(taskId: string, signal?: AbortSignal): Promise<SendResult>;
  findUserIdByMobile(mobile: string, signal?: AbortSignal): Promise<string | undefined>;
  findUserIdByUnionId(unionId: string, signal?: AbortSignal): Promise<string | undefined>;
  getUser(userId: string, signal?: AbortSignal): Promise<DingTalkUser | undefined>;
}

export type { SendResult };
