import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dtg as run, DTG_BIN, root, runProcess, type RunOptions } from '../helpers/dtg';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';

/**
 * The built `dtg` (bin/dtg → dist/cli/dtg.js) against a real sandbox gateway: alice and bob
 * are bound, carol is not but is found by mobile 13800000003. Every command is run as a
 * child process and its real output checked.
 */

const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const COMMANDS = ['send', 'verify', 'test', 'delivery', 'config', 'bind', 'unbind', 'binding', 'health'];
const ID = /verification id ([A-Za-z0-9_-]{22})\b/;

let gw: TestGateway;
const dtg = (args: string[], options?: RunOptions) =>
  run(['--address', gw.app.grpc.address, ...args], options);
const inboxTo = (userid: string) => gw.app.simulator!.inbox.filter((m) => m.userid === userid);

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw.stop();
});

describe('dtg send and verify', () => {
  it('send prints the verification id the message carries, never the code; --json gives it as proto3 JSON', async () => {
    const human = await dtg(['send', 'login', 'alice']);
    expect(human.stderr).toBe('');
    expect(human.status).toBe(0);
    const id = ID.exec(human.stdout)![1];
    expect(human.stdout).toMatch(/^sent: verification id \S+, expires \S+Z \(in (299|300) s\)\n/);
    expect(human.stdout).toContain("to DingTalk user demo-alice (from the user's binding)");
    expect(inboxTo('demo-alice').at(-1)!.text).toContain(id.slice(0, 8)); // the message shows its start
    expect(human.stdout).not.toContain(latestCode(gw, 'demo-alice'));

    const json = await dtg(['send', 'password-reset', 'alice', '--json', '--locale', 'en-US']);
    expect(json.status).toBe(0);
    const res = JSON.parse(json.stdout) as Record<string, string>;
    expect(res).toMatchObject({ dingtalkUserId: 'demo-alice', recipientSource: 'RECIPIENT_SOURCE_BINDING' });
    expect(inboxTo('demo-alice').at(-1)!.text).toContain(res.verificationId.slice(0, 8));
    expect(Date.parse(res.expiresAt)).toBeGreaterThan(Date.now());
    expect(json.stdout).not.toContain(latestCode(gw, 'demo-alice'));
  });

  it('send --idempotency-key answers a retry with the first send, and sends one message', async () => {
    const before = inboxTo('demo-bob').length;
    const first = await dtg(['send', 'password_reset', 'bob', '--idempotency-key', 'retry-1', '--json']);
    const again = await dtg(['send', 'password_reset', 'bob', '--idempotency-key', 'retry-1', '--json']);
    expect([first.status, again.status]).toEqual([0, 0]);
    expect(JSON.parse(again.stdout).verificationId).toBe(JSON.parse(first.stdout).verificationId);
    expect(inboxTo('demo-bob').length).toBe(before + 1);
  });

  it('verify approves the code from the inbox, once', async () => {
    const sent = await dtg(['send', 'SCENARIO_LOGIN', 'bob']);
    const id = ID.exec(sent.stdout)![1];
    const code = latestCode(gw, 'demo-bob');
    const ok = await dtg(['verify', 'login', 'bob', code]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toBe(`approved: the code is right (verification id ${id}); it is now used up\n`);
    const again = await dtg(['verify', 'login', 'bob', code, '--json']);
    expect(JSON.parse(again.stdout)).toEqual({ result: 'VERIFY_RESULT_ALREADY_USED', verificationId: id });
    const human = await dtg(['verify', 'login', 'bob', code]);
    expect(human.stdout).toBe(`rejected: the code was already used (verification id ${id})\n`);
  });

  it('verify rejects a wrong code, saying how many attempts remain', async () => {
    await dtg(['send', '2fa', 'alice']);
    const wrong = latestCode(gw, 'demo-alice') === '000000' ? '000001' : '000000';
    const first = await dtg(['verify', 'two_factor', 'alice', wrong]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^rejected: wrong code \(verification id \S+\); 4 attempts remaining\n$/);
    const second = await dtg(['verify', 'two-factor', 'alice', wrong, '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({
      result: 'VERIFY_RESULT_WRONG_CODE',
      attemptsRemaining: 3,
    });
  });

  it('verify reads a code given as - from stdin, so it stays out of the process list', async () => {
    await dtg(['send', 'recovery', 'alice']);
    const code = latestCode(gw, 'demo-alice');
    const ok = await dtg(['verify', 'password_recovery', 'alice', '-'], { input: `${code}\n` });
    expect(ok.stdout).toMatch(/^approved: /);
    expect(ok.stdout + ok.stderr).not.toContain(code);
    const empty = await dtg(['verify', 'recovery', 'alice', '-']);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain('dtg: no code on stdin');
  });

  it('delivery reports what DingTalk said about a sent code', async () => {
    const sent = await dtg(['send', '2fa', 'bob']);
    const id = ID.exec(sent.stdout)![1];
    gw.advance(1500); // past the gateway's pause between two reads of one send result
    const human = await dtg(['delivery', id]);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^delivery: delivered\n/);
    expect(human.stdout).toContain(`verification id ${id}: two_factor code for bob`);
    expect(human.stdout).toContain('to DingTalk user demo-bob');
    const json = JSON.parse((await dtg(['delivery', id, '--json'])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      verificationId: id,
      userId: 'bob',
      scenario: 'SCENARIO_TWO_FACTOR',
      deliveryStatus: 'DELIVERY_STATUS_DELIVERED',
    });
    const unknown = await dtg(['delivery', 'A'.repeat(22)]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^dtg: NOT_FOUND: no delivery record/);
  });
});

describe('dtg test, bindings, config and health', () => {
  it('test reports the delivery of a test message to a bound user, and names an unbound one', async () => {
    const ok = await dtg(['test', 'login', 'alice']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^test message: delivered\n  to DingTalk user demo-alice, DingTalk task \d+\n$/,
    );
    const carol = await dtg(['test', 'login', 'carol']);
    expect(carol.status).toBe(1);
    expect(carol.stdout).toBe('');
    expect(carol.stderr).toMatch(/^dtg: FAILED_PRECONDITION: user carol is not bound to a DingTalk account/);
  });

  it('bind, binding and unbind round-trip by DingTalk userid', async () => {
    const bound = await dtg(['bind', 'dave', '--dingtalk-user-id', 'demo-bob']);
    expect(bound.status).toBe(0);
    expect(bound.stdout).toMatch(/^bound: dave → demo-bob \(by DingTalk userid\), bound \S+Z \([^)]+\)\n$/);
    const shown = JSON.parse((await dtg(['binding', 'dave', '--json'])).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({
      binding: { userId: 'dave', dingtalkUserId: 'demo-bob', source: 'BINDING_SOURCE_DINGTALK_USER_ID' },
    });
    expect((await dtg(['unbind', 'dave'])).stdout).toBe("unbound: dave's binding was removed\n");
    const gone = await dtg(['binding', 'dave']);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toMatch(/^dtg: NOT_FOUND: user dave is not bound/);
    expect((await dtg(['unbind', 'dave'])).stdout).toBe('not bound: dave had no binding\n');
  });

  it('binds by mobile number without ever printing it, after which test reaches the user', async () => {
    const bound = await dtg(['bind', 'carol', '--mobile', '13800000003']);
    expect(bound.stdout).toMatch(/^bound: carol → demo-carol \(by mobile number\)/);
    const shown = await dtg(['binding', 'carol']);
    expect(shown.stdout).toMatch(/^carol → demo-carol \(by mobile number\), bound /);
    expect((await dtg(['test', 'risk', 'carol'])).stdout).toMatch(/^test message: delivered/);
    const removed = await dtg(['unbind', 'carol', '--json']);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: true });
    for (const r of [bound, shown, removed]) expect(r.stdout + r.stderr).not.toContain('13800000003');
  });

  it('config prints the settings and a row per scenario, and --json the whole response without secrets', async () => {
    const human = await dtg(['config']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^sending +enabled$/m);
    expect(human.stdout).toMatch(/^mode +sandbox/m);
    expect(human.stdout).toMatch(/^app secret +set$/m);
    expect(human.stdout).toMatch(/^scenario +enabled +digits +ttl +attempts/m);
    for (const s of ['login', 'password_recovery', 'two_factor', 'password_reset', 'risk_warning'])
      expect(human.stdout).toMatch(new RegExp(`^${s} +yes +6 +300 s +5 +60 s +10 +yes +zh-CN, en-US$`, 'm'));
    const json = JSON.parse((await dtg(['config', '--json'])).stdout) as {
      mode: string;
      scenarios: Array<{ scenario: string; templates: unknown[] }>;
    };
    expect(json).toMatchObject({ enabled: true, mode: 'GATEWAY_MODE_SANDBOX', appSecretSet: true });
    expect(json.scenarios.map((s) => s.scenario)).toContain('SCENARIO_RISK_WARNING');
    expect(json.scenarios[0].templates.length).toBeGreaterThan(0);
    for (const r of [human.stdout, JSON.stringify(json)])
      expect(r).not.toContain(gw.app.simulator!.appSecret);
  });

  it('health reports SERVING (exit 0), and an unknown service as NOT_FOUND (exit 1)', async () => {
    const ok = await dtg(['health']);
    expect([ok.status, ok.stdout]).toEqual([0, 'health: SERVING\n']);
    expect(JSON.parse((await dtg(['health', '--json'])).stdout)).toEqual({ status: 'SERVING' });
    const service = await dtg(['health', 'dingtalk.gateway.v1.VerificationService']);
    expect(service.stdout).toBe('health of dingtalk.gateway.v1.VerificationService: SERVING\n');
    const unknown = await dtg(['health', 'no.such.Service']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^dtg: NOT_FOUND: /);
  });

  it('reads the address from DTG_ADDRESS', async () => {
    const r = await run(['health'], { env: { DTG_ADDRESS: gw.app.grpc.address } });
    expect(r.stdout).toBe('health: SERVING\n');
  });
});

describe('dtg usage', () => {
  it.each([
    [['frob'], /^dtg: unknown command "frob"; expected one of send, verify, /, '--help'],
    [
      ['send', 'logn', 'alice'],
      /^dtg: unknown scenario "logn"; expected one of login, password_recovery, /,
      'send --help',
    ],
    [['send', 'login'], /^dtg: missing <user>\n/, 'send --help'],
    [['verify', 'login', 'alice'], /^dtg: missing <code>\n/, 'verify --help'],
    [
      ['bind', 'alice', '--mobile', '13800000003', '--union-id', 'u1'],
      /^dtg: more than one target: /,
      'bind --help',
    ],
    [['bind', 'alice'], /^dtg: missing target: give exactly one of /, 'bind --help'],
    [['send', 'login', 'alice', '--frob'], /^dtg: unknown option --frob\n/, 'send --help'],
    [
      ['verify', 'login', 'alice', '1', '--mobile', '1'],
      /^dtg: `dtg verify` takes no option --mobile/,
      'verify --help',
    ],
    [['config', '--timeout'], /^dtg: option --timeout needs a value/, 'config --help'],
    [['config', '--timeout', 'soon'], /^dtg: --timeout: expected a number of seconds/, '--help'],
    [
      ['binding', 'alice', 'bob'],
      /^dtg: too many arguments: `dtg binding` takes <user>, got 2\n/,
      'binding --help',
    ],
  ])('%j is bad usage: exit 2, one line saying why, and a pointer to --help', async (args, why, help) => {
    const r = await dtg(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(why);
    expect(r.stderr.split('\n')).toEqual([expect.any(String), `Run \`dtg ${help}\` for usage.`, '']);
  });

  it('--help on every command prints its usage to stdout and exits 0', async () => {
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const r = await run([command, flag]);
        expect([command, r.status, r.stderr]).toEqual([command, 0, '']);
        expect(r.stdout).toMatch(new RegExp(`^Usage: dtg ${command} `));
        expect(r.stdout).toContain('--address ADDRESS');
      }
    }
    const top = await run(['--help']);
    expect(top.status).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('without arguments prints the help to stderr and exits 2; --version prints the package version', async () => {
    const bare = await run([]);
    expect([bare.status, bare.stdout]).toEqual([2, '']);
    expect(bare.stderr).toMatch(/^dtg: command-line client of dingtalk-gateway/);
    expect(await run(['--version'])).toMatchObject({ status: 0, stdout: `dtg ${VERSION}\n` });
  });

  it('the wrapper says how to build when dist is missing and it cannot compile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtg-bin-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(DTG_BIN, join(dir, 'bin', 'dtg'));
    const r = await runProcess(process.execPath, [join(dir, 'bin', 'dtg'), '--help']);
    expect(r).toMatchObject({ status: 2, stdout: '', stderr: 'dtg: not built yet; run `npm run build`\n' });
  });

  it('the wrapper compiles first in a fresh clone where nothing is built yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dtg-clone-'));
    mkdirSync(join(dir, 'bin'));
    copyFileSync(DTG_BIN, join(dir, 'bin', 'dtg'));
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json'])
      copyFileSync(join(root, f), join(dir, f));
    // A clone has its own sources and scripts (the build resolves its paths from them); the
    // installed packages can be shared.
    for (const d of ['src', 'scripts']) cpSync(join(root, d), join(dir, d), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const r = await runProcess(process.execPath, [
      join(dir, 'bin', 'dtg'),
      'health',
      '--address',
      gw.app.grpc.address,
    ]);
    expect(r).toMatchObject({ status: 0, stdout: 'health: SERVING\n' });
    expect(r.stderr).toBe('dtg: compiling dist/ first (npm run build)\n');
    expect(existsSync(join(dir, 'dist', 'cli', 'dtg.js'))).toBe(true);
  }, 60_000);
});

describe('npm run -s dtg', () => {
  it('works in the checkout as the README documents it, with output fit for --json', async () => {
    const npm = (args: string[]) =>
      runProcess('npm', ['run', '-s', 'dtg', '--', '--address', gw.app.grpc.address, ...args], {
        env: { HOME: process.env.HOME ?? tmpdir(), npm_config_update_notifier: 'false' },
      });
    const sent = await npm(['send', 'risk_warning', 'alice']);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toMatch(/^sent: verification id /);
    expect(inboxTo('demo-alice').at(-1)!.text).toContain(ID.exec(sent.stdout)![1].slice(0, 8));
    const json = await npm(['health', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ status: 'SERVING' });
    console.info(`npm run -s dtg: ${sent.ms} ms and ${json.ms} ms`);
  });
});
