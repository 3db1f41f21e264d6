import { createHash, createHmac } from 'node:crypto';
import type { RandomBytes } from '../domain/code';
import { cancelled, conflict, invalidArgument, isGatewayFailure } from '../domain/errors';
import type { AuditSink, IdempotencyClaim, VerificationStore } from './ports';

/** How long a completed call's response answers its key: a retry within this gets it again. */
export const IDEMPOTENCY_RETAIN_MS = 10 * 60_000;
/**
 * How long a claim holds a key while its call works. Longer than any call takes (DingTalk's
 * timeout and retries, the call-rate gate's wait); a holder that died frees the key after it.
 */
export const IDEMPOTENCY_LEASE_MS = 2 * 60_000;

/** One call under an idempotency key: what it does, the caller's key, and the fields that define it. */
export interface IdempotentRequest {
  /** The operation, e.g. "SendCode": keys of different operations never meet. */
  operation: string;
  /** The caller's key, validated; '' runs the work without a key. */
  key: string;
  /** The request as the work sees it (normalised); another request under the same key is refused. */
  fields: Record<string, string>;
}

export interface IdempotencyDeps {
  store: Pick<
    VerificationStore,
    'claimIdempotency' | 'getIdempotency' | 'completeIdempotency' | 'releaseIdempotency'
  >;
  random: RandomBytes;
  audit: AuditSink;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  now: () => number;
  leaseMs?: number;
  retainMs?: number;
  /** First interval between two looks at a key another call holds; it grows to 4× that. Default 50 ms. */
  pollMs?: number;
}

export type Idempotency = ReturnType<typeof createIdempotency>;

/**
 * Runs a call at most once per idempotency key, for every way in that delivers a message.
 * The first caller claims the key atomically in the store (pending), does the work and stores
 * its response (done, kept IDEMPOTENCY_RETAIN_MS); a failure releases the key, so a retry does
 * the work afresh. A caller that finds the key done gets the stored response; one that finds it
 * pending polls until it is done (the same response), released (ABORTED: the first call
 * failed, retry) or its own deadline passes. The same key with another request is
 * INVALID_ARGUMENT naming `idempotency_key`. The store sees only a hash of the key and an HMAC
 * of the request keyed by it; logs carry `idempotencyRef`, a short hash.
 */
export function createIdempotency(deps: IdempotencyDeps) {
  const { store, random, audit, sleep, now } = deps;
  const leaseMs = deps.leaseMs ?? IDEMPOTENCY_LEASE_MS;
  const retainMs = deps.retainMs ?? IDEMPOTENCY_RETAIN_MS;
  const pollMs = deps.pollMs ?? 50;

  async function once<T>(
    request: IdempotentRequest,
    work: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<{ value: T; replayed: boolean }> {
    if (request.key === '') return { value: await work(), replayed: false };
    const key = storeKey(request.operation, request.key);
    const ref = key.slice(0, 12);
    const claim: IdempotencyClaim = {
      digest: requestDigest(request),
      token: random(16).toString('base64url'),
    };
    const found = await store.claimIdempotency(key, claim, leaseMs);
    if (found.state === 'claimed')
      return { value: await runClaimed(key, ref, claim, request, work), replayed: false };
    if (found.digest !== claim.digest) throw mismatch();
    if (found.state === 'done') return { value: JSON.parse(found.response) as T, replayed: true };
    return { value: await awaitOther<T>(key, claim.digest, signal), replayed: true };
  }

  async function runClaimed<T>(
    key: string,
    ref: string,
    claim: IdempotencyClaim,
    request: IdempotentRequest,
    work: () => Promise<T>,
  ): Promise<T> {
    let value: T;
    try {
      value = await work();
    } catch (e) {
      await store.releaseIdempotency(key, claim.token).catch((err: unknown) =>
        // The lease frees it in the end; until then retries are told the key is in use.
        audit('idempotency.release_failed', {
          operation: request.operation,
          idempotencyRef: ref,
          error: kindOf(err),
        }),
      );
      throw e;
    }
    // The work is done (a message sent): failing to record it must not turn it into an error.
    const stored = await store
      .completeIdempotency(key, claim, JSON.stringify(value), retainMs)
      .catch((err: unknown) => {
        audit('idempotency.unrecorded', {
          operation: request.operation,
          idempotencyRef: ref,
          error: kindOf(err),
        });
        return true;
      });
    if (!stored) audit('idempotency.lease_lost', { operation: request.operation, idempotencyRef: ref });
    return value;
  }

  /** Polls a key another call holds until it completes, is released, or this call's signal or the lease ends. */
  async function awaitOther<T>(key: string, digest: string, signal?: AbortSignal): Promise<T> {
    const until = now() + leaseMs;
    for (let wait = pollMs; ; wait = Math.min(wait * 2, pollMs * 4)) {
      if (signal?.aborted) throw cancelled();
      if (now() >= until)
        throw conflict('another call with this idempotency_key is still in progress; retry it later');
      await sleep(wait, signal);
      if (signal?.aborted) throw cancelled();
      const record = await store.getIdempotency(key);
      if (record === undefined)
        throw conflict(
          'the first call with this idempotency_key failed and sent nothing; retry with the same key',
        );
      if (record.digest !== digest) throw mismatch();
      if (record.state === 'done') return JSON.parse(record.response) as T;
    }
  }

  return { once };
}

/** The store's name for a key: SHA-256 of the operation and the key, hex. */
export const storeKey = (operation: string, key: string): string =>
  createHash('sha256').update(`${operation}\n${key}`).digest('hex');

/** What logs may say of a key: the first 12 hex digits of its store name. */
export const idempotencyRef = (operation: string, key: string): string =>
  storeKey(operation, key).slice(0, 12);

/**
 * The request's fingerprint: an HMAC keyed by the caller's key over the operation and the
 * fields in name order, so the store never holds a guessable hash of a mobile number.
 */
function requestDigest(request: IdempotentRequest): string {
  const fields = Object.keys(request.fields)
    .sort()
    .map((k) => [k, request.fields[k]]);
  return createHmac('sha256', request.key)
    .update(JSON.stringify([request.operation, fields]))
    .digest('base64url');
}

const mismatch = () =>
  invalidArgument(
    'idempotency_key',
    'was used with a different request (user, scenario, recipient or locale) in the last 10 minutes; use a new key for a new request',
  );

const kindOf = (e: unknown): string => (isGatewayFailure(e) ? e.detail.kind : 'internal');
