import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { externalServer, freePort, type TestServer } from './net';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

/** A stopped PostgreSQL keeps its data: a restart brings it back. */
export type PostgresServer = TestServer;

/** The newest installed PostgreSQL's bin directory, if any. */
export function findPostgresBin(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter(
      (v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')) && existsSync(join(PG_ROOT, v, 'bin', 'pg_ctl')),
    )
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(PG_ROOT, versions[0], 'bin') : undefined;
}

/**
 * Why PostgreSQL tests cannot run here, or undefined when they can. Synchronous so a
 * test file can decide between describe and describe.skip. `throwaway` demands a server
 * this process can stop (outage tests), which DATABASE_URL cannot provide.
 */
export function postgresSkipReason(opts: { throwaway?: boolean } = {}): string | undefined {
  if (!opts.throwaway && process.env.DATABASE_URL) return undefined;
  if (findPostgresBin() !== undefined) {
    if (process.getuid?.() !== 0 || hasPostgresUser()) return undefined;
    return 'running as root, and initdb refuses root, but there is no `postgres` OS user to run it as';
  }
  return opts.throwaway
    ? `no PostgreSQL binaries under ${PG_ROOT}/<version>/bin to start a throwaway server for outage tests`
    : `neither DATABASE_URL nor PostgreSQL binaries under ${PG_ROOT}/<version>/bin are available`;
}

/** DATABASE_URL when set (unless `throwaway`), otherwise a throwaway server. */
export async function startPostgres(opts: { throwaway?: boolean } = {}): Promise<PostgresServer> {
  const external = process.env.DATABASE_URL;
  if (!opts.throwaway && external) {
    return externalServer('DATABASE_URL', external);
  }
  return startThrowaway();
}

/**
 * initdb + pg_ctl in a temp dir on a free loopback port, password-authenticated. initdb
 * refuses to run as root, so as root the binaries run as the `postgres` OS user.
 */
async function startThrowaway(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error(postgresSkipReason({ throwaway: true }));
  const dir = mkdtempSync(join(tmpdir(), 'gateway-pg-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'pw'), password, { mode: 0o600 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const pg = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]]
      : [join(bin, tool), args];
    return run(cmd, argv, { env: { ...process.env, LC_ALL: 'C' }, timeout: 60_000 });
  };
  const port = await freePort();
  const serverOptions = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${dir}`,
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = () =>
    pg('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o', serverOptions, 'start']);
  const stop = async () => {
    await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  };

  try {
    const initdb = '-U gateway -A scram-sha-256 -E UTF8 --locale=C --no-sync'.split(' ');
    await pg('initdb', [...initdb, '-D', data, `--pwfile=${join(dir, 'pw')}`]);
    await start();
  } catch (e) {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a throwaway PostgreSQL: ${(e as Error).message}\n${log}`);
  }
  // A crashed or forgotten test must not leave a postmaster behind.
  const killOnExit = () => {
    const argv = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
    spawnSync(asRoot ? 'runuser' : argv[0], asRoot ? ['-u', 'postgres', '--', ...argv] : argv.slice(1), {
      stdio: 'ignore',
    });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  return {
    url: `postgresql://gateway:${password}@127.0.0.1:${port}/postgres`,
    password,
    throwaway: true,
    stop,
    restart: async () => {
      await start();
    },
    close: async () => {
      process.removeListener('exit', killOnExit);
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hasPostgresUser = () =>
  existsSync('/etc/passwd') &&
  readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .some((l) => l.startsWith('postgres:'));
