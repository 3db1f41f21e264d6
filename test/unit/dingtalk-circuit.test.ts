import { createCircuit, type CircuitState } from '../../src/dingtalk/circuit';
import { cancelled, isGatewayFailure, upstream, type UpstreamKind } from '../../src/domain/errors';

const fail = (kind: UpstreamKind, errcode = 0) =>
  upstream({ upstream: kind, errcode, endpoint: 'asyncsend_v2', retryable: false, message: kind });

function setup(failureThreshold = 3) {
  let now = 0;
  const changes: CircuitState[] = [];
  const circuit = createCircuit({
    failureThreshold,
    openMs: 10_000,
    now: () => now,
    onChange: (s) => changes.push(s),
  });
  let calls = 0;
  const call = (outcome: 'ok' | Error) =>
    circuit.run('asyncsend_v2', async () => {
      calls += 1;
      if (outcome !== 'ok') throw outcome;
      return 'ok';
    });
  const detailOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => (isGatewayFailure(e) ? e.detail : e),
    );
  return { circuit, changes, call, detailOf, calls: () => calls, advance: (ms: number) => (now += ms) };
}

describe('DingTalk circuit breaker', () => {
  it('opens after the threshold of outages in a row and then fails fast without calling', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.detailOf(t.call(fail('transport')));
    expect(t.circuit.state).toBe('open');
    expect(await t.detailOf(t.call('ok'))).toMatchObject({
      kind: 'upstream',
      upstream: 'circuit_open',
      retryAfterMs: 10_000,
      message: 'DingTalk failed 3 times in a row; the gateway is not calling it for 10 s',
    });
    expect(t.calls()).toBe(3);
    expect(t.changes).toEqual(['open']);
  });

  it('does not count answers with an errcode: DingTalk is up when it refuses a request', async () => {
    const t = setup();
    await t.detailOf(t.call(fail('transport')));
    await t.detailOf(t.call(fail('bad_response')));
    await t.detailOf(t.call(fail('recipient', 60121)));
    await t.detailOf(t.call(fail('busy', -1)));
    await t.detailOf(t.call(fail('banned')));
    expect(t.circuit.state).toBe('closed');
    await t.detailOf(t.call(fail('transport')));
    expect(t.circuit.state).toBe('open');
  });

  it('ignores the caller cancelling and our own refusals', async () => {
    const t = setup(2);
    await t.detailOf(t.call(fail('transport')));
    await t.detailOf(t.call(cancelled()));
    await t.detailOf(t.call(fail('rate_limit')));
    expect(t.circuit.state).toBe('closed');
    await t.detailOf(t.call(fail('transport')));
    expect(t.circuit.state).toBe('open');
  });

  it('lets one trial through after the open period: success closes, failure reopens', async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.detailOf(t.call(fail('transport')));
    t.advance(10_000);
    let release!: () => void;
    const trial = t.circuit.run('asyncsend_v2', () => new Promise<string>((r) => (release = () => r('ok'))));
    expect(t.circuit.state).toBe('half_open');
    // Others keep failing fast while the trial is out.
    expect(await t.detailOf(t.call('ok'))).toMatchObject({ upstream: 'circuit_open', retryAfterMs: 1000 });
    release();
    expect(await trial).toBe('ok');
    expect(t.circuit.state).toBe('closed');

    for (let i = 0; i < 3; i++) await t.detailOf(t.call(fail('transport')));
    t.advance(10_000);
    await t.detailOf(t.call(fail('transport')));
    expect(t.circuit.state).toBe('open');
    expect(t.changes).toEqual(['open', 'half_open', 'closed', 'open', 'half_open', 'open']);
  });

  it('never opens with a threshold of 0', async () => {
    const t = setup(0);
    for (let i = 0; i < 20; i++) await t.detailOf(t.call(fail('transport')));
    expect(t.circuit.state).toBe('closed');
    expect(t.calls()).toBe(20);
  });
});
