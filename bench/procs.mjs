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

/** A throwaway redis-server on a free loopback port, with a password, no persistence. */
export async function startRedisServer({ cpu } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dtg-bench-redis-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--requirepass', password, '--protected-mode', 'no');
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
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    pid: child.pid,
    flush: () =>
      runCommand('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, 'FLUSHALL']),
    close: async () => {
      process.removeListener('exit', kill);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      kill();
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
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
