/** Short names of the simulated endpoints, as used by `sim.inject` and `sim.calls`. */
export type SimEndpoint =
  | 'token'
  | 'gettoken'
  | 'asyncsend_v2'
  | 'getsendresult'
  | 'getsendprogress'
  | 'recall'
  | 'getbymobile'
  | 'getbyunionid'
  | 'user_get'
  | 'user_access_token'
  | 'login_user'
  | 'getuserinfo';

/** A misbehaviour to play instead of (or before) the normal answer. */
export type Fault =
  /** HTTP 200 with this errcode (and sub_code, for errcode 88). */
  | { type: 'errcode'; errcode: number; subCode?: number }
  /** This status and body verbatim, e.g. an HTML ban page or a 502; an object body is sent as JSON. */
  | { type: 'http'; status: number; body: string | object; contentType?: string }
  /** Waits, then answers normally. */
  | { type: 'delay'; ms: number }
  /** Answers normally, one byte every `chunkDelayMs`. */
  | { type: 'trickle'; chunkDelayMs: number }
  /** Destroys the socket without answering. */
  | { type: 'reset' };

/** Faults queued per endpoint, played in injection order; '*' matches any endpoint after its own queue. */
export function createFaultQueue() {
  const queues = new Map<SimEndpoint | '*', { fault: Fault; left: number }[]>();
  const takeFrom = (key: SimEndpoint | '*'): Fault | undefined => {
    const queue = queues.get(key);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    if (--head.left <= 0) queue.shift();
    return head.fault;
  };
  return {
    inject(endpoint: SimEndpoint | '*', fault: Fault, times = 1): void {
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      const queue = queues.get(endpoint) ?? [];
      queue.push({ fault, left: times });
      queues.set(endpoint, queue);
    },
    take: (endpoint: SimEndpoint): Fault | undefined => takeFrom(endpoint) ?? takeFrom('*'),
    clear: (): void => queues.clear(),
  };
}
