import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { externalServer, freePort, type TestServer } from './net';
import { ownedServer } from './owned-server';

const run = promisify(execFile);

/** A stopped MariaDB keeps its data: a restart brings it back. */
export type MariaDbServer = TestServer;

/** Where Debian and most distributions put them: the server in an sbin directory, off a user's PATH. */
const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin'];
const find = (name: string) => SEARCH.map((dir) => join(dir, name)).find((p) => existsSync(p));

/** The server and installer binaries, if both are installed. */
export function findMariaDb(): { server: string; install: string } | undefined {
  const server = find('mariadbd');
  const install = find('mariadb-install-db');
  return server && install ? { server, install } : undefined;
}

/**
 * Why MySQL store tests cannot run here, or undefined when they can. Synchronous so a test
 * file can choose between describe and describe.skip. `throwaway` demands a server this
 * process can stop (outage tests), which MYSQL_URL cannot provide.
 */
export function mariadbSkipReason(opts: { throwaway?: boolean } = {}): string | undefined {
  if (!opts.throwaway && process.env.MYSQL_URL) return undefined;
  if (findMariaDb()) return undefined;
  const missing =
    'no mariadbd and mariadb-install-db (on PATH, /usr/sbin or /usr/bin; apt-get install mariadb-server)';
  return opts.throwaway
    ? `${missing} to start a throwaway server for outage tests`
    : `neither MYSQL_URL nor ${missing}`;
}

/** MYSQL_URL when set (unless `throwaway`), otherwise a throwaway MariaDB. */
export async function startMariaDb(opts: { throwaway?: boolean } = {}): Promise<MariaDbServer> {
  const external = process.env.MYSQL_URL;
  if (!opts.throwaway && external) return externalServer('MYSQL_URL', external);
  return startThrowaway();
}

/**
 * mariadb-install-db + mariadbd in a temp dir on a free loopback port, with a `gateway` user
 * that has a password and may create databases. `--no-defaults` comes first on both: the
 * machine's /etc/mysql configuration would otherwise bring its own user, paths and port. As
 * root, both need `--user=root` (mariadbd refuses root otherwise). Commits reach the OS at
 * once (innodb_flush_log_at_trx_commit=2), so a killed server loses nothing, without fsyncs.
 */
async function startThrowaway(): Promise<MariaDbServer> {
  const bin = findMariaDb();
  if (bin === undefined) throw new Error(mariadbSkipReason({ throwaway: true }));
  const dir = mkdtempSync(join(tmpdir(), 'gateway-mariadb-'));
  const data = join(dir, 'data');
  const password = randomBytes(12).toString('hex');
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  writeFileSync(
    join(dir, 'init.sql'),
    [
      // Bootstrap runs without the grant tables loaded; this loads them, so CREATE USER works.
      'FLUSH PRIVILEGES;',
      `CREATE USER 'gateway'@'%' IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON *.* TO 'gateway'@'%' WITH GRANT OPTION;`,
      `CREATE DATABASE gateway;`,
    ].join('\n'),
  );
  const port = await freePort();
  const serverArgs = [
    '--no-defaults',
    ...asRoot,
    `--datadir=${data}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${join(dir, 'mysqld.sock')}`,
    `--pid-file=${join(dir, 'mysqld.pid')}`,
    '--skip-name-resolve',
    '--skip-log-bin',
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-buffer-pool-size=64M',
    '--max-connections=500',
  ];
  const server = ownedServer({
    command: bin.server,
    args: serverArgs,
    stream: 'stderr',
    ready: 'ready for connections',
    timeoutMs: 15_000,
    dir,
  });
  try {
    const installArgs = [
      '--no-defaults',
      ...asRoot,
      `--datadir=${data}`,
      '--auth-root-authentication-method=socket',
    ];
    installArgs.push('--skip-test-db', '--skip-name-resolve', `--extra-file=${join(dir, 'init.sql')}`);
    await run(bin.install, installArgs, { timeout: 15_000 });
    await server.start();
  } catch (e) {
    await server.close();
    throw new Error(`could not start a throwaway MariaDB: ${(e as Error).message}`);
  }

  return {
    url: `mysql://gateway:${password}@127.0.0.1:${port}/gateway`,
    password,
    throwaway: true,
    // A kill, as an outage would be; InnoDB recovers its log on the restart.
    stop: server.stop,
    restart: server.start,
    close: server.close,
  };
}
