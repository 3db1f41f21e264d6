import { status } from '@grpc/grpc-js';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { simulatorEnv } from '../helpers/gateway';
import { connect, rpcError } from '../helpers/grpc-client';
import { startSidecar } from '../helpers/sidecar';

/** SIGTERM: in-flight calls finish within the grace period, new ones are refused, exit code 0. */
describe('graceful shutdown', () => {
  let sim: Simulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    sim = await startSimulator();
    env = {
      ...simulatorEnv(sim),
      DINGTALK_TIMEOUT_MS: '20000',
      DELIVERY_FOLLOW_UP_MS: '0',
      SHUTDOWN_GRACE_SECONDS: '3',
    };
  });
  afterAll(() => sim.close());

  const send = (s: { verification: ReturnType<typeof connect>['verification'] }, userId: string) =>
    s.verification.sendCode({ userId, scenario: Scenario.SCENARIO_LOGIN, dingtalkUserId: 'demo-alice' });

  it('lets a call in flight finish, refuses new ones, and exits 0', async () => {
    const sidecar = await startSidecar(env);
    sim.inject('asyncsend_v2', { type: 'delay', ms: 700 });
    const inFlight = send(sidecar, 'in-flight');
    await new Promise((r) => setTimeout(r, 200));
    sidecar.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    // A fresh connection finds nobody accepting calls any more.
    const late = connect(sidecar.address);
    expect((await rpcError(send(late, 'late'))).code).toBe(status.UNAVAILABLE);
    late.close();
    expect((await inFlight).taskId).toMatch(/^\d+$/);
    expect(await sidecar.stop()).toBe(0);
    expect(sidecar.output()).toContain('"signal":"SIGTERM"');
  });

  it('cuts off a call that outlives the grace period, then exits 0', async () => {
    const sidecar = await startSidecar(env);
    sim.inject('asyncsend_v2', { type: 'delay', ms: 15_000 });
    const hung = send(sidecar, 'hung').then(
      () => 'answered',
      (e: { code: number }) => e.code,
    );
    await new Promise((r) => setTimeout(r, 200));
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.stop()).toBe(0);
    expect(await hung).toBe(status.CANCELLED);
    sim.clearFaults();
  }, 20_000);
});
