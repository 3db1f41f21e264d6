import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Why a Cluster or Sentinel set-up cannot be started here, or undefined when it can: both
 * need redis-server and redis-cli on PATH (no Docker).
 */
export function redisTopologyAvailability(): string | undefined {
  const has = (bin: string) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!has('redis-server')) return 'no redis-server binary on PATH';
  if (!has('redis-cli')) return 'no redis-cli binary on PATH';
  return undefined;
}

interface Node {
  port: number;
  child: ChildProcess;
}

/** One redis-server (or sentinel) on a free loopback port, resolved once it logs `ready`. */
async function spawnNode(args: string[], port: number, ready: RegExp): Promise<Node> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server ${port} did not start:\n${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server ${port} exited with ${code}:\n${out}`));
    });
  });
  // Keep draining, so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  return { port, child };
}

const kill = async (n: Node) => {
  if (n.child.exitCode !== null || n.child.signalCode !== null) return;
  const exited = new Promise((r) => n.child.once('exit', r));
  n.child.kill('SIGCONT');
  n.child.kill('SIGKILL');
  await exited;
};

const cli = (port: number, password: string, ...args: string[]) =>
  run('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, ...args]).then((r) => r.stdout);

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface RedisClusterHandle {
  url: string;
  password: string;
  ports: number[];
  close(): Promise<void>;
}

/** A Redis Cluster of three masters on loopback, with a password, once `cluster_state:ok`. */
export async function startRedisCluster(): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-cluster-'));
  const password = randomBytes(12).toString('hex');
  const ports = [await freePort(), await freePort(), await freePort()];
  const nodes: Node[] = [];
  const cleanup = () => {
    for (const n of nodes) n.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  try {
    for (const port of ports) {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`));
      args.push('--dir', dir, '--requirepass', password, '--masterauth', password, '--protected-mode', 'no');
      nodes.push(await spawnNode(args, port, /Ready to accept connections/));
    }
    await run('redis-cli', [
      '--no-auth-warning',
      '-a',
      password,
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-yes',
    ]);
    for (const port of ports)
      await until('cluster_state:ok', async () =>
        (await cli(port, password, 'cluster', 'info')).includes('cluster_state:ok'),
      );
  } catch (e) {
    cleanup();
    throw e;
  }
  return {
    url: `redis+cluster://:${password}@${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    password,
    ports,
    close: async () => {
      process.removeListener('exit', cleanup);
      await Promise.all(nodes.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisSentinelHandle {
  url: string;
  password: string;
  masterPort: number;
  replicaPort: number;
  /** The port of the master the sentinels name now. */
  currentMaster(): Promise<number>;
  /** SIGKILLs the process on `port` (master or replica). */
  kill(port: number): Promise<void>;
  /** SIGSTOP / SIGCONT the process on `port`: a replica that falls behind. */
  pause(port: number): void;
  resume(port: number): void;
  close(): Promise<void>;
}

/**
 * One master, one replica and three sentinels (quorum 2, down after 1 s, failover timeout
 * 3 s), every data node with a password; resolved once the sentinels know the replica and
 * each other, so a failover can start.
 */
export async function startRedisSentinel(): Promise<RedisSentinelHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-sentinel-'));
  const password = randomBytes(12).toString('hex');
  const [masterPort, replicaPort] = [await freePort(), await freePort()];
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const nodes = new Map<number, Node>();
  const cleanup = () => {
    for (const n of nodes.values()) n.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const data = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--requirepass',
    password,
    '--masterauth',
    password,
    '--protected-mode',
    'no',
  ];
  try {
    nodes.set(masterPort, await spawnNode(data(masterPort), masterPort, /Ready to accept connections/));
    const replicaArgs = [...data(replicaPort), '--replicaof', '127.0.0.1', String(masterPort)];
    nodes.set(replicaPort, await spawnNode(replicaArgs, replicaPort, /MASTER <-> REPLICA sync: Finished/));
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          'sentinel monitor mymaster 127.0.0.1 ' + masterPort + ' 2',
          `sentinel auth-pass mymaster ${password}`,
          'sentinel down-after-milliseconds mymaster 1000',
          'sentinel failover-timeout mymaster 3000',
          '',
        ].join('\n'),
      );
      nodes.set(port, await spawnNode([conf, '--sentinel'], port, /\+monitor master/));
    }
    for (const port of sentinelPorts)
      await until('the sentinels to know the replica and each other', async () => {
        const out = await run('redis-cli', ['-p', String(port), 'sentinel', 'master', 'mymaster']);
        const fields = out.stdout.split('\n').map((l) => l.trim());
        const field = (name: string) => fields[fields.indexOf(name) + 1];
        return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
      });
  } catch (e) {
    cleanup();
    throw e;
  }
  const currentMaster = async () => {
    const out = await run('redis-cli', [
      '-p',
      String(sentinelPorts[0]),
      'sentinel',
      'get-master-addr-by-name',
      'mymaster',
    ]);
    return Number(out.stdout.trim().split('\n')[1]);
  };
  return {
    url: `redis+sentinel://:${password}@${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/mymaster`,
    password,
    masterPort,
    replicaPort,
    currentMaster,
    kill: async (port) => {
      const n = nodes.get(port);
      if (n) await kill(n);
    },
    pause: (port) => void nodes.get(port)?.child.kill('SIGSTOP'),
    resume: (port) => void nodes.get(port)?.child.kill('SIGCONT'),
    close: async () => {
      process.removeListener('exit', cleanup);
      await Promise.all([...nodes.values()].map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
