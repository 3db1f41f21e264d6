import type { Binding } from '../domain/binding';
import type { AttemptSnapshot, CodeRecord } from '../domain/code';
import type { DeliveryRecord, SendResult } from '../domain/delivery';
import type { FailureCheck } from '../domain/lockout';
import type { LoginState } from '../domain/login';
import type { RecallEntry, RecallReason } from '../domain/recall';
import type { StoredSettings } from '../domain/settings';
import type { SendDecision, SendRule, SendsDecision } from '../domain/policy';
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

/**
 * Whose sends are limited: a user in a scenario, an end user's IP address across scenarios,
 * or a user's message budget across scenarios (`user_day`, `since_success`: see UserBudget).
 */
export interface SendSubject {
  userId: string;
  scenario: ScenarioName | 'client_ip' | 'user_day' | 'since_success';
}

/** One history in a reserveSends call: whose, and by which rule. */
export interface SendReservation {
  subject: SendSubject;
  rule: SendRule;
}

/**
 * What an idempotency key holds (see verification/idempotency.ts): `claimed` when this caller
 * took it, else the record another caller made, with the digest of its request and, once that
 * call completed, its response as stored.
 */
export type IdempotencyRecord =
  | { state: 'claimed' }
  | { state: 'pending'; digest: string }
  | { state: 'done'; digest: string; response: string };

/** A caller's hold on an idempotency key: its request's digest and a random token naming the holder. */
export interface IdempotencyClaim {
  digest: string;
  token: string;
}

/**
 * Persistence the verification service needs. Every method either succeeds or
 * throws a GatewayFailure of kind `store_unavailable`; a backend error must never
 * look like "missing". Methods marked atomic must hold across every process
 * sharing the backend.
 */
export interface VerificationStore {
  readonly kind: 'memory' | 'redis' | 'postgres' | 'mysql';
  /** Atomic: applies `decideSend` to the subject's send history and records `now` when allowed. */
  reserveSend(subject: SendSubject, rule: SendRule, now: number): Promise<SendDecision>;
  /** Removes the send recorded at `at` (a reservation whose delivery failed). */
  releaseSend(subject: SendSubject, at: number): Promise<void>;
  /**
   * Atomic: applies `decideSends` to several distinct subjects' histories at once and records
   * `now` in every one when all allow, in none otherwise (a scenario's limits and the user's
   * budget in one step). Each is released on its own with releaseSend.
   */
  reserveSends(reservations: readonly SendReservation[], now: number): Promise<SendsDecision>;
  /** Forgets the subject's whole send history (a user's since-success budget, once a code is approved). */
  clearSends(subject: SendSubject): Promise<void>;
  // Idempotency keys: one record per key (its hash), shared by every replica.
  /**
   * Atomic: takes `key` for `claim` when no live record holds it (kept `leaseMs`, state pending)
   * and returns `claimed`; otherwise returns the record in force, untouched. Of any number of
   * concurrent callers across replicas exactly one gets `claimed`.
   */
  claimIdempotency(key: string, claim: IdempotencyClaim, leaseMs: number): Promise<IdempotencyRecord>;
  /** The record `key` holds now (never `claimed`); undefined when none is live. */
  getIdempotency(key: string): Promise<Exclude<IdempotencyRecord, { state: 'claimed' }> | undefined>;
  /**
   * Atomic: stores `response` as the outcome of `claim`'s call, kept `retainMs`; also when the
   * lease ran out and nobody took the key since. False when another holder has it now.
   */
  completeIdempotency(
    key: string,
    claim: IdempotencyClaim,
    response: string,
    retainMs: number,
  ): Promise<boolean>;
  /** Atomic: deletes `key`'s pending record if `token` holds it (a failed call), so a retry can claim it. */
  releaseIdempotency(key: string, token: string): Promise<void>;
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
  /**
   * Atomic: counts one submission against the outstanding code and returns it with the new count.
   * With `check` it also applies the subject's failure rule (domain/lockout.ts) in the same
   * atomic step: a locked subject comes back `locked` with nothing counted (probing does not
   * extend a lock); a submission that will be compared (isCompared) is counted as a failure
   * first, and when that locks the subject its snapshot carries `lockedUntil`. Without `check`
   * no failure is counted. consumeCode clears the subject's failures, lock included.
   */
  countAttempt(subject: Subject, check?: FailureCheck): Promise<AttemptSnapshot>;
  /** The end of the subject's lock when it is locked at `now`; 0 when it is not. */
  lockedUntil(subject: Subject, now: number): Promise<number>;
  /** Atomic: marks the code `id` used and clears the subject's failures; true for exactly one caller. */
  consumeCode(subject: Subject, id: string): Promise<boolean>;
  getBinding(userId: string): Promise<Binding | undefined>;
  putBinding(binding: Binding): Promise<void>;
  /** True when a binding was removed. */
  deleteBinding(userId: string): Promise<boolean>;
  // The mobile look-up cache: getbymobile's answers, shared by every replica (see verification/recipient.ts).
  /**
   * The DingTalk userid cached under `key` (a keyed hash of a normalised mobile, never the
   * number); '' when DingTalk said no such user; undefined when nothing live is cached.
   */
  getMobileUser(key: string): Promise<string | undefined>;
  /** Caches getbymobile's answer under `key` for `ttlMs`, replacing any: a userid, or '' for no such user. */
  putMobileUser(key: string, dingtalkUserId: string, ttlMs: number): Promise<void>;
  /** Stores what is known of a sent code's delivery, replacing an earlier record; kept `retainMs`. */
  putDelivery(record: DeliveryRecord, retainMs: number): Promise<void>;
  getDelivery(verificationId: string): Promise<DeliveryRecord | undefined>;
  // The recall due list: messages to take back out of users' chats, shared by every replica.
  /**
   * Atomic: lists a freshly sent code's message for recall at `entry.dueAt` (upsert by
   * verification id) and settles which code of the subject is newest, by `createdAt`: a
   * listed older entry of the same user and scenario becomes due at `now` with reason
   * `replaced`; when a newer one is already listed, `entry` itself is listed that way.
   */
  scheduleRecall(entry: RecallEntry, now: number): Promise<void>;
  /**
   * Atomic: makes a listed entry due at `now` at the latest, recording `reason`; false
   * when it is not listed (never scheduled, already claimed, or recall is off).
   */
  expediteRecall(verificationId: string, reason: RecallReason, now: number): Promise<boolean>;
  /**
   * Atomic: removes and returns up to `limit` entries due at or before `now`, earliest first.
   * Across every replica each entry is returned to exactly one caller, once; claimed entries
   * are gone from the list (at most once: a process that dies holding them recalls nothing).
   */
  claimDueRecalls(now: number, limit: number): Promise<RecallEntry[]>;
  /**
   * Lists a claimed entry again as it is (a failed attempt, with its attempt count and the
   * backoff's due time), replacing any entry of that id; the subject's newest code is unchanged.
   */
  rescheduleRecall(entry: RecallEntry): Promise<void>;
  /** Atomic set-if-absent: stores `candidate` under `name` unless a value exists; returns the value in force. */
  getOrCreateSecret(name: string, candidate: string): Promise<string>;
  /**
   * Atomic compare-and-set: stores `next` under `name` only when the value in force is
   * `expected` ('' when none is stored); returns the value in force afterwards: `next`, or
   * what another caller stored first ('' for none).
   */
  replaceSecret(name: string, expected: string, next: string): Promise<string>;
  /** The runtime settings document every replica applies; undefined until one is stored. */
  readSettings(): Promise<StoredSettings | undefined>;
  /**
   * Atomic compare-and-set: stores `next` only when the stored version is `expectedVersion`
   * (0: none stored yet). False when another change came first.
   */
  writeSettings(expectedVersion: number, next: StoredSettings): Promise<boolean>;
  /**
   * Keeps a started DingTalk login under `key` (the state's hash, see loginStateKey) for
   * `retainMs`; states are random, so a key is never reused.
   */
  putLoginState(key: string, record: LoginState, retainMs: number): Promise<void>;
  /**
   * Atomic take: removes the login kept under `key` and returns it, for exactly one caller
   * across every process sharing the backend; undefined when unknown, already taken or past
   * its retention. The caller still checks `expiresAt` against its own clock.
   */
  takeLoginState(key: string): Promise<LoginState | undefined>;
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

/** What getbyunionid says of a unionid: the userid, and 0 for a member, 1 for an external contact. */
export interface UnionIdMatch {
  userId: string;
  contactType: number;
}

/** A DingTalk login's user access token: used once to read the user, never stored or logged. */
export interface LoginToken {
  accessToken: string;
  /** The organisation the user picked (scope `corpid`); undefined when DingTalk named none. */
  corpId: string | undefined;
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
  /** getbyunionid with the contact type; undefined when the unionid is not of this organisation (60121). */
  getByUnionId(unionId: string, signal?: AbortSignal): Promise<UnionIdMatch | undefined>;
  /**
   * Exchanges a DingTalk login's authCode for the user's access token (userAccessToken, with
   * the app's current AppKey/AppSecret). The code is single-use, so this is never retried;
   * a refused code fails with upstream `login_code`.
   */
  exchangeLoginCode(authCode: string, signal?: AbortSignal): Promise<LoginToken>;
  /** The logged-in user's unionId (users/me), read with their access token. */
  getLoginUser(userAccessToken: string, signal?: AbortSignal): Promise<{ unionId: string }>;
  /** Resolves an in-app auth code (getuserinfo; single-use, not retried): the member's userid and unionid. */
  getUserInfoByAuthCode(authCode: string, signal?: AbortSignal): Promise<{ userId: string; unionId: string }>;
  /** Recalls a sent work notification (asyncsend_v2's task id) from its recipients' chats. */
  recall(taskId: string, signal?: AbortSignal): Promise<void>;
}

export type { SendResult };
