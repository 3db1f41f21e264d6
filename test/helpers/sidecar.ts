import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { simulatorEnv } from './gateway';
import { connect, type Clients } from './grpc-client';
import { startRedis, type RedisHandle } from './redis-server';

const root = join(__dirname, '..', '..');

export interface Sidecar extends Clients {
  child: ChildProcess;
  address: string;
  output(): string;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the compiled gateway (built by test/global-setup.js) as its own process and connects clients once it logs "listening on". */
export function startSidecar(env: Record<string, string>): Promise<Sidecar> {
  const child = spawn(process.execPath, [join(root, 'dist', 'main.js')], {
    env: {
      PATH: process.env.PATH ?? '',
      LISTEN_ADDRESS: '127.0.0.1:0',
      SANDBOX_ADDRESS: '127.0.0.1:0',
      ADMIN_ADDRESS: '127.0.0.1:0',
      HOOKS_ADDRESS: '127.0.0.1:0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(out);
      if (m && !('address' in child)) {
        const clients = connect(m[1]);
        resolve({
          ...clients,
          child,
          address: m[1],
          output: () => out,
          stop: async () => {
            clients.close();
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
        Object.defineProperty(child, 'address', { value: m[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    exited.then((code) => reject(new Error(`sidecar exited with ${code} before listening:\n${out}`)));
  });
}

/** Two gateway processes sharing one throwaway Redis, live against one simulator. */
export interface Replicas {
  redis: RedisHandle;
  sim: Simulator;
  a: Sidecar;
  b: Sidecar;
  /** Stops both gateways, then the simulator and Redis. */
  stop(): Promise<void>;
}

/**
 * Starts two replicas of the compiled gateway on one Redis, as behind a load balancer:
 * `env` adds to the simulator's credentials, the store URL and LOG_LEVEL=info (the
 * helper waits for the info line 'listening on').
 */
export async function startReplicas(env: Record<string, string> = {}): Promise<Replicas> {
  const redis = await startRedis({ throwaway: true });
  const sim = await startSimulator();
  const all = { ...simulatorEnv(sim), STORE_URL: redis.url, LOG_LEVEL: 'info', ...env };
  const [a, b] = await Promise.all([startSidecar(all), startSidecar(all)]);
  return {
    redis,
    sim,
    a,
    b,
    stop: async () => {
      await Promise.all([a.stop(), b.stop()]);
      await sim.close();
      await redis.close();
    },
  };
}
