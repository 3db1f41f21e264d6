import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { basename } from 'node:path';

export interface OwnedServerSpec {
  command: string;
  args: string[];
  /** The output stream that announces the server is ready, and what it prints then. */
  stream: 'stdout' | 'stderr';
  ready: string;
  timeoutMs: number;
  /** The server's data directory: removed on close, and if the test process exits first. */
  dir: string;
}

export interface OwnedServer {
  /** Starts the server (again, on the same data after stop) and waits until it is ready. */
  start(): Promise<void>;
  /** Kills it, as an outage would, and waits until it has exited. */
  stop(): Promise<void>;
  /** Stops it for good and removes its data directory. */
  close(): Promise<void>;
}

/**
 * A server process a test owns (a throwaway redis-server or mariadbd): started on loopback,
 * killed and restarted for outage tests, and never left behind by a crashed or forgotten test.
 */
export function ownedServer(spec: OwnedServerSpec): OwnedServer {
  const name = basename(spec.command);
  let child: ChildProcess | undefined;
  const start = async () => {
    const stdio =
      spec.stream === 'stdout'
        ? (['ignore', 'pipe', 'ignore'] as const)
        : (['ignore', 'ignore', 'pipe'] as const);
    const started = spawn(spec.command, spec.args, { stdio: [...stdio] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${spec.timeoutMs / 1000} s:\n${out}`)),
        spec.timeoutMs,
      );
      started[spec.stream]!.on('data', (d: Buffer) => {
        out = (out + d.toString()).slice(-4000);
        if (out.includes(spec.ready)) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}:\n${out}`));
      });
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(spec.dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  return {
    start,
    stop,
    close: async () => {
      process.removeListener('exit', killOnExit);
      await stop();
      rmSync(spec.dir, { recursive: true, force: true });
    },
  };
}
