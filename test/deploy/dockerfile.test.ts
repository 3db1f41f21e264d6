import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { startSimulator, type Simulator } from '../../src/dingtalk/simulator';
import { loadConfig } from '../../src/config';
import { Scenario } from '../../src/gen/dingtalk/gateway/v1/scenario';
import { simulatorEnv } from '../helpers/gateway';
import { connect } from '../helpers/grpc-client';
import { freePort } from '../helpers/net';
import {
  buildContext,
  execForm,
  parseCopy,
  parseDockerfile,
  parseEnv,
  parseHealthcheck,
  type Stage,
} from './dockerfile';

/**
 * What can be checked of the Dockerfile without a Docker engine: its instructions
 * agree with package.json and the gateway's defaults, and its build stage, replayed
 * step by step in a clean copy of the build context, yields a production tree that
 * starts (as the image's non-root user, from files it cannot write) and answers health.
 */

const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  main: string;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const stages = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
const runtime = stages[stages.length - 1];
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const one = (stage: Stage, keyword: string) => {
  const found = all(stage, keyword);
  if (found.length !== 1)
    throw new Error(`stage ${stage.name}: expected one ${keyword}, found ${found.length}`);
  return found[0];
};
const runtimeEnv = Object.assign({}, ...all(runtime, 'ENV').map((i) => parseEnv(i.args))) as Record<
  string,
  string
>;
const [uid, gid] = one(runtime, 'USER').args.split(':').map(Number);
const entrypoint = execForm(one(runtime, 'ENTRYPOINT').args);
const healthcheck = parseHealthcheck(one(runtime, 'HEALTHCHECK').args);

describe('Dockerfile instructions', () => {
  it('is multi-stage, every stage on the same Node major that package.json requires', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const major = Number(/(\d+)/.exec(pkg.engines.node)![1]);
    for (const s of stages) expect(s.image).toMatch(new RegExp(`^node:${major}(\\.|-|$)`));
    expect(runtime.image).toMatch(/-slim$|-alpine|distroless/);
  });

  it('starts the package entry point with node directly (signals reach the gateway)', () => {
    expect(entrypoint[0]).toBe('node');
    expect(entrypoint.at(-1)).toBe(pkg.main);
    expect(all(runtime, 'CMD')).toHaveLength(0);
  });

  it('passes node only flags that this Node accepts (the benchmark runs the gateway with them too)', () => {
    const flags = entrypoint.slice(1, -1);
    for (const f of flags) expect(f).toMatch(/^--[a-z-]+(=\S+)?$/);
    const run = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('runs in production mode as a numeric non-root user', () => {
    expect(runtimeEnv.NODE_ENV).toBe('production');
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
  });

  it('exposes the port the gateway listens on, which is the default port, on all interfaces', () => {
    const defaultPort = loadConfig({ env: {}, readFile: () => '' })
      .listenAddress.split(':')
      .pop();
    expect(defaultPort).toBe('50051');
    const exposed = all(runtime, 'EXPOSE').map((i) => i.args.replace(/\/tcp$/, ''));
    expect(exposed).toEqual([defaultPort]);
    expect(runtimeEnv.LISTEN_ADDRESS).toBe(`0.0.0.0:${defaultPort}`);
  });

  it('health-checks over grpc.health.v1 with a compiled script of the package', () => {
    expect(healthcheck.command).toEqual(['node', 'dist/healthcheck.js']);
    expect(existsSync(join(root, 'src', 'healthcheck.ts'))).toBe(true);
    expect(Object.keys(healthcheck.options).sort()).toEqual([
      'interval',
      'retries',
      'start-period',
      'timeout',
    ]);
  });

  it('ships only what the build stage produced, installing nothing at run time', () => {
    const runs = all(runtime, 'RUN').map((i) => i.args);
    for (const r of runs) expect(r).not.toMatch(/npm (ci|install|i)\b|apt-get install|yarn|pnpm/);
    const copies = all(runtime, 'COPY').map((i) => parseCopy(i.args));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(stages.map((s) => s.name)).toContain(c.from);
    const build = stages.find((s) => s.name === copies[0].from)!;
    const lastInstall = all(build, 'RUN')
      .filter((i) => /npm ci/.test(i.args))
      .pop();
    expect(lastInstall?.args).toMatch(/--omit=dev/);
  });

  it("puts the package's `dtg` command on the image's PATH, keeping the base image's PATH after it", () => {
    expect(pkg.bin.dtg).toBe('bin/dtg');
    const wrapper = join(root, pkg.bin.dtg);
    expect(statSync(wrapper).mode & 0o111).toBe(0o111);
    expect(readFileSync(wrapper, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    // Once committed, git must carry the executable bit too: a checkout is what `docker build` copies.
    const staged = execFileSync('git', ['ls-files', '-s', pkg.bin.dtg], { cwd: root, encoding: 'utf8' });
    if (staged) expect(staged.split(' ')[0]).toBe('100755');
    const workdir = one(runtime, 'WORKDIR').args;
    const copied = all(runtime, 'COPY')
      .map((i) => parseCopy(i.args))
      .find((c) => c.sources.some((src) => src.endsWith(`/${dirname(pkg.bin.dtg)}`)))!;
    expect(copied).toBeDefined();
    const binDir = join(workdir, copied.dest);
    const path = runtimeEnv.PATH.split(':');
    expect(path[0]).toBe(binDir);
    expect(path.slice(1)).toEqual(['$PATH']);
  });

  it('keeps the build context small and never sends node_modules, dist or .git', () => {
    const context = buildContext(root);
    expect(context.some((p) => p.startsWith('node_modules/') || p.startsWith('dist/'))).toBe(false);
    expect(context.some((p) => p.startsWith('test/') || p.startsWith('.git/'))).toBe(false);
    for (const s of stages) {
      for (const copy of all(s, 'COPY').map((i) => parseCopy(i.args))) {
        if (copy.from) continue;
        for (const src of copy.sources) {
          expect(context.some((p) => p === src || p.startsWith(`${src}/`))).toBe(true);
        }
      }
    }
  });
});

/** Replays the build stage in `dir` (the container's / at `dir`), then assembles the runtime stage's files. */
function replayBuild(dir: string): { buildRoot: string; runtimeRoot: string; appDir: string } {
  const context = buildContext(root);
  const build = stages.find((s) => s.name === parseCopy(all(runtime, 'COPY')[0].args).from)!;
  const buildRoot = join(dir, 'build');
  let workdir = buildRoot;
  for (const ins of build.instructions) {
    if (ins.keyword === 'WORKDIR') {
      workdir = join(buildRoot, ins.args);
      mkdirSync(workdir, { recursive: true });
    } else if (ins.keyword === 'COPY') {
      const { sources, dest } = parseCopy(ins.args);
      const target = join(workdir, dest);
      const intoDir = dest.endsWith('/') || sources.length > 1;
      for (const src of sources) {
        for (const file of context.filter((p) => p === src || p.startsWith(`${src}/`))) {
          const to =
            file === src
              ? intoDir
                ? join(target, basename(src))
                : target
              : join(target, relative(src, file));
          mkdirSync(dirname(to), { recursive: true });
          cpSync(join(root, file), to);
        }
      }
    } else if (ins.keyword === 'RUN') {
      const r = spawnSync('sh', ['-c', ins.args], {
        cwd: workdir,
        // The local npm cache first: the registry is only asked for what the cache lacks.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_prefer_offline: 'true' },
        encoding: 'utf8',
      });
      if (r.status !== 0)
        throw new Error(
          `Dockerfile line ${ins.line}: RUN ${ins.args} failed (${r.status}):\n${r.stdout}${r.stderr}`,
        );
    } else {
      throw new Error(`the build stage uses ${ins.keyword}, which this replay does not know`);
    }
  }
  const runtimeRoot = join(dir, 'runtime');
  let appDir = runtimeRoot;
  for (const ins of runtime.instructions) {
    if (ins.keyword === 'WORKDIR') appDir = join(runtimeRoot, ins.args);
    if (ins.keyword !== 'COPY') continue;
    const { sources, dest } = parseCopy(ins.args);
    for (const src of sources) {
      const to = join(appDir, dest);
      mkdirSync(dirname(to), { recursive: true });
      cpSync(join(buildRoot, src), to, { recursive: true, verbatimSymlinks: true });
    }
  }
  // Readable and traversable by the image's user, writable by root only.
  for (let d = appDir; d.startsWith(dir); d = dirname(d)) chmodSync(d, 0o755);
  return { buildRoot, runtimeRoot, appDir };
}

function duKiB(path: string): number {
  return Number(execFileSync('du', ['-sk', path], { encoding: 'utf8' }).split('\t')[0]);
}

describe('the build stage, replayed in a clean copy of the build context', () => {
  let dir: string;
  let runtimeRoot: string;
  let appDir: string;
  let sim: Simulator;
  let child: ChildProcess | undefined;
  let env: Record<string, string>;
  let port: number;
  let token: string;
  let output = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dtg-image-'));
    const started = Date.now();
    ({ runtimeRoot, appDir } = replayBuild(dir));
    console.info(
      `build stage replayed in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
        `production node_modules ${(duKiB(join(appDir, 'node_modules')) / 1024).toFixed(1)} MiB, ` +
        `dist ${(duKiB(join(appDir, 'dist')) / 1024).toFixed(1)} MiB`,
    );
    sim = await startSimulator();
    port = await freePort();
    token = randomBytes(16).toString('hex');
    env = {
      ...runtimeEnv,
      PATH: process.env.PATH ?? '',
      // The image's address with a port free on this machine; off loopback, so a token is required.
      LISTEN_ADDRESS: runtimeEnv.LISTEN_ADDRESS.replace(/:\d+$/, `:${port}`),
      AUTH_TOKEN: token,
      ...simulatorEnv(sim),
    };
  }, 180_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
    }
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const runHealthcheck = () =>
    spawnSync(
      healthcheck.command[0] === 'node' ? process.execPath : healthcheck.command[0],
      healthcheck.command.slice(1),
      {
        cwd: appDir,
        env,
        uid,
        gid,
        encoding: 'utf8',
        timeout: 10_000,
      },
    );

  it('leaves production dependencies only, and the compiled entry point and health check', () => {
    const installed = (name: string) => existsSync(join(appDir, 'node_modules', name, 'package.json'));
    for (const name of Object.keys(pkg.dependencies)) expect(installed(name)).toBe(true);
    // The lockfile marks what only development needs (devDependencies and what they alone pull in).
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([path, p]) => path.startsWith('node_modules/') && p.dev)
      .map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(50);
    expect(devOnly.filter((path) => existsSync(join(appDir, path)))).toEqual([]);
    for (const name of ['typescript', 'jest', '@bufbuild/buf', 'kubernetes-models'])
      expect(installed(name)).toBe(false);
    expect(statSync(join(appDir, pkg.main)).isFile()).toBe(true);
    expect(statSync(join(appDir, healthcheck.command[1])).isFile()).toBe(true);
    expect(existsSync(join(appDir, 'src'))).toBe(false);
  });

  it('the health check fails while nothing listens', () => {
    const r = runHealthcheck();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/health check failed/);
  });

  it('starts as the image user in production mode and answers SERVING to its HEALTHCHECK', async () => {
    child = spawn(process.execPath, entrypoint.slice(1), {
      cwd: appDir,
      env,
      uid,
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        if (output.includes('listening on')) resolve();
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    expect(output).not.toContain('SANDBOX MODE');
    const r = runHealthcheck();
    expect(r.stdout.trim()).toBe('health: SERVING');
    expect(r.status).toBe(0);
  });

  it('serves a real SendCode through the production tree, behind the bearer token', async () => {
    const clients = connect(`127.0.0.1:${port}`);
    try {
      const res = await clients.verification.sendCode(
        {
          userId: 'image-user',
          scenario: Scenario.SCENARIO_LOGIN,
          dingtalkUserId: 'demo-alice',
          mobile: '',
          locale: '',
        },
        { metadata: { authorization: `Bearer ${token}` } },
      );
      expect(res.dingtalkUserId).toBe('demo-alice');
      expect(sim.inbox.filter((m) => m.userid === 'demo-alice')).toHaveLength(1);
    } finally {
      clients.close();
    }
    expect(output).not.toContain(token);
    expect(output).not.toContain(sim.appSecret);
  });

  it('runs `dtg` from the PATH the image sets, with the token the gateway reads from the environment', () => {
    // The image's PATH entries inside the replayed tree, then this machine's (where `node` is, as in the image).
    const imagePath = [
      ...runtimeEnv.PATH.split(':')
        .filter((p) => p !== '$PATH')
        .map((p) => join(runtimeRoot, p)),
      process.env.PATH ?? '',
    ].join(':');
    const dtgEnv = { ...env, PATH: imagePath, DTG_ADDRESS: `127.0.0.1:${port}` };
    const dtg = (...args: string[]) =>
      spawnSync('dtg', args, { cwd: '/', env: dtgEnv, uid, gid, encoding: 'utf8', timeout: 15_000 });
    const found = spawnSync('sh', ['-c', 'command -v dtg'], { env: dtgEnv, encoding: 'utf8' });
    expect(found.stdout.trim()).toBe(join(appDir, 'bin', 'dtg'));

    const help = dtg('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^dtg: command-line client/);
    const health = dtg('health');
    expect(health.stdout.trim()).toBe('health: SERVING');
    expect(health.status).toBe(0);
    const config = dtg('config', '--json');
    expect(config.stderr).toBe('');
    expect(config.status).toBe(0);
    expect(JSON.parse(config.stdout)).toMatchObject({ mode: 'GATEWAY_MODE_LIVE', appSecretSet: true });
    for (const r of [help, health, config]) expect(r.stdout + r.stderr).not.toContain(token);
  });

  it('stops on SIGTERM with exit code 0, and the health check then fails', async () => {
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(runHealthcheck().status).toBe(1);
  });
});
