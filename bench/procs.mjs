// Child processes for the benchmark: spawning (optionally pinned to a CPU with taskset),
// waiting for their IPC hello, and reading their memory and CPU time from /proc.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const hasCommand = (cmd, arg = '--version') => spawnSync(cmd, [arg], { stdio: 'ignore' }).status === 0;
const canPin = hasCommand('taskset', '-V');

/** `cmd args` as run on `cpu` alone: through taskset where it exists and a CPU is given. */
export const pinned = (cmd, args, cpu) =>
  canPin && cpu !== undefined ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];

/**
 * Spawns `node script` (pinned to `cpu` when taskset exists; inside the memory cgroup whose
 * `cgroup.procs` file is `cgroup`, from its first instruction, so that Node sizes its heap
 * from the limit) and resolves with its first IPC message.
 */
export function startNode(
  script,
  { env = {}, cpu, nodeArgs = [], args = [], timeoutMs = 120_000, stdout = 'ignore', cgroup } = {},
) {
  let [cmd, cmdArgs] = pinned(process.execPath, [...nodeArgs, script, ...args], cpu);
  // The shell joins the cgroup, then becomes the command: same pid, same IPC channel.
  if (cgroup)
    [cmd, cmdArgs] = ['sh', ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', cgroup, cmd, ...cmdArgs]];
  const child = spawn(cmd, cmdArgs, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', stdout, 'pipe', 'ipc'],
  });
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${err}`)), timeoutMs);
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code}:\n${err}`));
    });
  });
  return {
    child,
    ready,
    stderr: () => err,
    ask(message) {
      return new Promise((resolve) => {
        child.once('message', resolve);
        child.send(message);
      });
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Runs a node script to completion and returns its stdout. */
export function runNode(script, { cpu, args = [], env = {} } = {}) {
  return runCommand(...pinned(process.execPath, [script, ...args], cpu), env);
}

export function runCommand(cmd, args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}: ${err}`)),
    );
  });
}

export const pinnable = canPin;

/**
 * A memory cgroup limited to `mib` MiB, as a container runtime makes for a container with a
 * memory limit; undefined where this machine does not let the benchmark make one (no
 * memory controller, or no permission). Returns its `cgroup.procs` path and a remover.
 */
export function memoryCgroup(mib) {
  const name = `dtg-bench-${process.pid}`;
  const hierarchies = [
    { dir: join('/sys/fs/cgroup/memory', name), limit: 'memory.limit_in_bytes' }, // cgroup v1
    { dir: join('/sys/fs/cgroup', name), limit: 'memory.max' }, // cgroup v2
  ];
  for (const h of hierarchies) {
    if (!existsSync(join(dirname(h.dir), 'cgroup.procs'))) continue; // not a cgroup hierarchy
    try {
      mkdirSync(h.dir);
      writeFileSync(join(h.dir, h.limit), String(mib * 2 ** 20));
      const remove = () => {
        try {
          rmdirSync(h.dir);
        } catch (e) {
          process.stderr.write(`could not remove the memory cgroup ${h.dir}: ${e.message}\n`);
        }
      };
      return { procs: join(h.dir, 'cgroup.procs'), remove };
    } catch {
      try {
        rmdirSync(h.dir);
      } catch {
        // never made
      }
    }
  }
  return undefined;
}

/** The Node flags the container image starts the gateway with (its ENTRYPOINT, between node and the script). */
export function imageNodeFlags(dockerfile) {
  const line = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ENTRYPOINT '))
    .pop();
  const argv = JSON.parse(line.slice('ENTRYPOINT '.length));
  return argv.slice(1, -1);
}

/** Resident memory now and its peak (VmRSS, VmHWM) in MiB. */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) the process has used. */
export function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the peak seen. */
export function sampleRss(pid, everyMs = 100) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  }, everyMs);
  return () => {
    clearInterval(timer);
    return peak;
  };
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts redis-server with `args` (pinned to `cpu`) and resolves once it accepts connections. */
async function spawnRedisServer(args, cpu) {
  const child = spawn(...pinned('redis-server', args, cpu), { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)));
  });
  return child;
}

/**
 * Throwaway servers' lifetime: they are killed if this process exits first, and the close()
 * returned kills them now, waits until they have exited, and removes their data directory.
 */
function ownChildren(children, dir) {
  const kill = () => children.forEach((c) => c.kill('SIGKILL'));
  process.once('exit', kill);
  return async () => {
    process.removeListener('exit', kill);
    await Promise.all(
      children.map((c) => {
        const exited = new Promise((resolve) => c.once('exit', resolve));
        c.kill('SIGKILL');
        return exited;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
}

/** A throwaway redis-server on a free loopback port, with a password, no persistence. */
export async function startRedisServer({ cpu } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dtg-bench-redis-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--requirepass', password, '--protected-mode', 'no');
  const child = await spawnRedisServer(args, cpu);
  const close = ownChildren([child], dir);
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    pid: child.pid,
    flush: () =>
      runCommand('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, 'FLUSHALL']),
    close,
  };
}

/** mariadbd and mariadb-install-db, where Debian puts them (the server off a non-root PATH); undefined unless both exist. */
export function findMariaDb() {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
  const find = (name) => dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  const server = find('mariadbd');
  const install = find('mariadb-install-db');
  return server && install ? { server, install } : undefined;
}

/**
 * A throwaway MariaDB on a free loopback port, with a password. Durability as the Redis case's
 * (none to disk): commits are written to the OS at once but not fsynced
 * (innodb_flush_log_at_trx_commit=2), so the figures price the store, not this machine's disk.
 * `--no-defaults` first: the machine's /etc/mysql configuration would bring its own user and paths.
 */
export async function startMariaDbServer({ cpu } = {}) {
  const bin = findMariaDb();
  const dir = mkdtempSync(join(tmpdir(), 'dtg-bench-mariadb-'));
  const password = randomBytes(12).toString('hex');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  writeFileSync(
    join(dir, 'init.sql'),
    `FLUSH PRIVILEGES;\nCREATE USER 'bench'@'%' IDENTIFIED BY '${password}';\nGRANT ALL ON *.* TO 'bench'@'%';\n`,
  );
  const data = join(dir, 'data');
  await runCommand(bin.install, [
    '--no-defaults',
    ...asRoot,
    `--datadir=${data}`,
    '--skip-test-db',
    '--skip-name-resolve',
    `--extra-file=${join(dir, 'init.sql')}`,
  ]);
  const port = await freePort();
  const args = [
    '--no-defaults',
    ...asRoot,
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
  ];
  args.push(`--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, '--skip-name-resolve');
  args.push('--skip-log-bin', '--innodb-flush-log-at-trx-commit=2', '--innodb-buffer-pool-size=512M');
  args.push('--max-connections=500');
  const child = spawn(...pinned(bin.server, args, cpu), { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mariadbd did not start:\n${out}`)), 20_000);
    child.stderr.on('data', (d) => {
      out = (out + d.toString()).slice(-4000);
      if (out.includes('ready for connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`mariadbd exited with ${code}:\n${out}`)));
  });
  const close = ownChildren([child], dir);
  const root = `mysql://bench:${password}@127.0.0.1:${port}`;
  return {
    url: `${root}/gateway`,
    pid: child.pid,
    /** An empty `gateway` database: the gateway creates its tables at start. */
    flush: async () => {
      const { createConnection } = await import('mysql2/promise');
      const c = await createConnection({ uri: `${root}/mysql` });
      try {
        await c.query('DROP DATABASE IF EXISTS gateway');
        await c.query('CREATE DATABASE gateway');
      } finally {
        await c.end();
      }
    },
    close,
  };
}

/** Sums dtg_rpc_requests_total by method and code from a Prometheus text page. */
export async function rpcCounts(metricsUrl) {
  const text = await (await fetch(metricsUrl)).text();
  const counts = {};
  for (const m of text.matchAll(/^dtg_rpc_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)/gm)) {
    const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    const key = `${labels.method}:${labels.code}`;
    counts[key] = (counts[key] ?? 0) + Number(m[2]);
  }
  const outcomes = {};
  for (const m of text.matchAll(/^dtg_codes_total\{([^}]*)\} (\d+(?:\.\d+)?)/gm)) {
    const outcome = /outcome="([^"]*)"/.exec(m[1])?.[1] ?? '?';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + Number(m[2]);
  }
  return { counts, outcomes };
}

export const diff = (after, before) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, v - (before[k] ?? 0)])
      .filter(([, v]) => v !== 0),
  );

/**
 * A throwaway Redis Cluster: three masters on free loopback ports, joined with
 * `redis-cli --cluster create`, a password on every node, no persistence.
 */
export async function startRedisCluster({ cpu } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dtg-bench-cluster-'));
  const password = randomBytes(12).toString('hex');
  const ports = [await freePort(), await freePort(), await freePort()];
  const auth = ['--no-auth-warning', '-a', password];
  const children = await Promise.all(
    ports.map(async (port) => {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
      args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`));
      args.push('--dir', dir, '--requirepass', password, '--masterauth', password, '--protected-mode', 'no');
      return spawnRedisServer(args, cpu);
    }),
  );
  const close = ownChildren(children, dir);
  await runCommand('redis-cli', [
    ...auth,
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-yes',
  ]);
  for (let i = 0; ; i++) {
    const info = await runCommand('redis-cli', ['-p', String(ports[0]), ...auth, 'CLUSTER', 'INFO']);
    if (String(info).includes('cluster_state:ok')) break;
    if (i > 100) throw new Error('the Redis Cluster did not reach cluster_state:ok');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis+cluster://:${password}@${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
    pids: children.map((c) => c.pid),
    flush: () =>
      Promise.all(ports.map((p) => runCommand('redis-cli', ['-p', String(p), ...auth, 'FLUSHALL']))),
    close,
  };
}
