import { isGatewayFailure, upstream, type UpstreamKind } from '../domain/errors';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitOptions {
  /** Consecutive outage failures that open the circuit; 0 never opens it. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one trial through. */
  openMs: number;
  now: () => number;
  onChange?: (state: CircuitState) => void;
}

/** Failures that say DingTalk itself is down or unreachable, as opposed to refusing this request. */
const OUTAGES = new Set<UpstreamKind>(['transport', 'bad_response', 'busy', 'banned']);

export const isOutage = (e: unknown): boolean =>
  isGatewayFailure(e) && e.detail.kind === 'upstream' && OUTAGES.has(e.detail.upstream);

export type Circuit = ReturnType<typeof createCircuit>;

/**
 * A circuit breaker in front of DingTalk. After `failureThreshold` outages in a row
 * (retries already spent) it opens: calls fail at once with UNAVAILABLE and a
 * retry-after instead of piling up behind timeouts. After `openMs` one trial call
 * goes through (half open); its success closes the circuit, its failure opens it
 * again. An errcode answer (a recipient, configuration or rate-limit refusal) proves
 * DingTalk is up and counts as a success here; the caller cancelling counts as nothing.
 */
export function createCircuit(options: CircuitOptions) {
  const { failureThreshold, openMs, now } = options;
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;

  const move = (next: CircuitState) => {
    if (next === state) return;
    state = next;
    options.onChange?.(next);
  };

  /** Runs `call` unless the circuit is open. */
  async function run<T>(endpoint: string, call: () => Promise<T>): Promise<T> {
    if (state === 'open' && now() >= openedAt + openMs) move('half_open');
    if (state === 'open' || (state === 'half_open' && trialInFlight)) {
      const waitMs = Math.max(openedAt + openMs - now(), 1000);
      throw upstream({
        upstream: 'circuit_open',
        errcode: 0,
        endpoint,
        retryable: false,
        retryAfterMs: waitMs,
        message: `DingTalk failed ${failureThreshold} times in a row; the gateway is not calling it for ${Math.ceil(waitMs / 1000)} s`,
      });
    }
    const trial = state === 'half_open';
    if (trial) trialInFlight = true;
    try {
      const result = await call();
      failures = 0;
      move('closed');
      return result;
    } catch (e) {
      if (isOutage(e)) {
        failures += 1;
        if (failureThreshold > 0 && (trial || failures >= failureThreshold)) {
          openedAt = now();
          move('open');
        }
      } else if (isGatewayFailure(e) && e.detail.kind === 'upstream' && e.detail.errcode !== 0) {
        // DingTalk answered with an errcode: it is up, whatever it thought of the request.
        failures = 0;
        move('closed');
      }
      throw e;
    } finally {
      if (trial) trialInFlight = false;
    }
  }

  return {
    run,
    get state(): CircuitState {
      return state;
    },
  };
}
