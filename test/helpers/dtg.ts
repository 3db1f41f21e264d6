import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');
/** The committed wrapper, which loads dist/cli/dtg.js (compiled by test/global-setup.js). */
export const DTG_BIN = join(root, 'bin', 'dtg');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock time of the whole process. */
  ms: number;
}

export interface RunOptions {
  /** Added to a clean environment that holds PATH only, so the developer's AUTH_TOKEN or DTG_ADDRESS never leaks in. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (closed at once when absent). */
  input?: string;
  cwd?: string;
}

/**
 * Runs a process asynchronously (the gateways under test live in this process and must keep
 * serving while it runs) and collects its output and exit status.
 */
export function runProcess(file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const child = spawn(file, args, {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr, ms: Date.now() - started }));
  });
}

/** `dtg …` as an operator runs it: node executing the package's bin. */
export const dtg = (args: string[], options: RunOptions = {}): Promise<RunResult> =>
  runProcess(process.execPath, [DTG_BIN, ...args], options);
