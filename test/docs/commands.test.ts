import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { latestCode, startGateway, type TestGateway } from '../helpers/gateway';
import { runGrpcurl } from '../helpers/grpcurl';
import { loginAs, type LoginRedirect } from '../helpers/dingtalk-login';
import { documents, read, root, shellCommands, type ShellCommand } from './markdown';

/**
 * Replays every command of the README and docs/ that can run against the sandbox, in the
 * order a reader meets them, each document against a fresh sandbox gateway: grpcurl
 * through a client that knows nothing but what reflection serves, `dtg` as the built CLI.
 * A command whose trailing comment starts with a gRPC status name must fail with it;
 * every other one must succeed. `123456` stands for the code of the last message sent,
 * PASTE_THE_ID for the last verification id, `127.0.0.1:50051` for the gateway's address.
 *
 * A step a person does in a browser is a comment line in the block, `# in the browser: … pick
 * Carol …`: before the next command the test does it as a browser would, opening the last
 * authorize_url StartDingTalkLogin printed and picking that account on the sandbox's DingTalk
 * login page. PASTE_THE_STATE and PASTE_THE_AUTH_CODE then stand for what DingTalk's redirect
 * carried (the `state` and `authCode` a person copies from the address bar).
 *
 * `curl` against the sandbox's hooks (`127.0.0.1:50070`) runs through `sh` as it is, with the
 * shell variables the block set before it: a line `name=value` (lower-case name, as the
 * identity-server recipes compute a body, a timestamp or a signature with openssl) runs through
 * `sh` once and its value is kept for the lines after it. A curl whose trailing comment starts
 * with an HTTP status must answer exactly that and deliver nothing (a refusal, or a replay
 * answered from the first request); every other one must answer 2xx and deliver exactly one
 * message, holding a code that appears in what the command sent.
 *
 * Every other command must be listed below as not runnable against the sandbox, so that a
 * new example can never go unexercised.
 */
const NOT_FOR_THE_SANDBOX: ReadonlyArray<[RegExp, string]> = [
  [/^npm (install|ci|start|test)\b/, 'the quickstart itself; test/e2e runs the entry point'],
  [/^npm run (generate|docs|lint|typecheck|bench|proto:release|build)\b/, 'development commands'],
  [/^npx jest\b/, 'the test runner'],
  [/^node bench\//, 'the benchmark'],
  [/^docker /, 'needs a Docker engine'],
  [/^kubectl (apply|rollout|logs|create)\b/, 'needs a Kubernetes cluster'],
  [/^([A-Z_]+=\S+ )+(NODE_ENV=\S+ )?npm start\b/, 'a live or multi-replica start'],
];

/** The sandbox's hooks address as the docs write it. */
const HOOKS = '127.0.0.1:50070';
const isHookCurl = (argv: string[]) =>
  argv[0] === 'curl' && argv.some((a) => a.includes(`http://${HOOKS}/hooks/`));
const isShellVariable = (text: string) => /^[a-z][a-z0-9_]*=/.test(text);
const HTTP_STATUS = /^([1-5]\d\d)\b/;

/** Runs `script` through sh with `vars` in its environment. */
function runSh(script: string, vars: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      'sh',
      ['-c', script],
      { env: { PATH: process.env.PATH, ...vars }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });
}

const STATUS =
  /^(OK|CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS|UNAUTHENTICATED)\b/;
/** grpcurl exits 64 + the status code when the RPC fails. */
const GRPC_CODES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

interface Outcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The dtg words of a command, or undefined when it does not run dtg. */
function dtgArgs(argv: string[]): string[] | undefined {
  if (argv[0] === 'dtg') return argv.slice(1);
  if (argv.slice(0, 4).join(' ') === 'npm run dtg --') return argv.slice(4);
  if (argv.slice(0, 5).join(' ') === 'npm run -s dtg --') return argv.slice(5);
  if (argv[0] === 'kubectl' && argv[1] === 'exec') {
    const dashes = argv.indexOf('--');
    if (dashes > 0 && argv[dashes + 1] === 'dtg') return argv.slice(dashes + 2);
  }
  return undefined;
}

function runDtg(args: string[], address: string): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'dtg'), ...args],
      { env: { PATH: process.env.PATH, DTG_ADDRESS: address }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ exitCode: code, stdout, stderr });
      },
    );
  });
}

/** The `# in the browser: … pick <Name>` lines of a document's sh blocks: the account to pick, by line. */
function browserSteps(doc: string): Array<{ line: number; pick: string }> {
  const steps: Array<{ line: number; pick: string }> = [];
  let inSh = false;
  read(doc)
    .split('\n')
    .forEach((text, i) => {
      const fence = /^\s*```(\S*)\s*$/.exec(text);
      if (fence) inSh = !inSh && fence[1] === 'sh';
      const step = inSh && /^\s*#\s*in the browser:.*?\bpick (\p{L}+)/iu.exec(text);
      if (step) steps.push({ line: i + 1, pick: step[1] });
    });
  return steps;
}

const runnable = documents()
  .map((doc) => ({ doc, commands: shellCommands(doc), steps: browserSteps(doc) }))
  .map(({ doc, commands, steps }) => ({
    doc,
    commands: commands
      .map((c, i) => ({
        ...c,
        // The browser steps between the previous command (runnable or not) and this one.
        picks: steps
          .filter((s) => s.line < c.line && s.line > (commands[i - 1]?.line ?? 0))
          .map((s) => s.pick),
      }))
      .filter(
        (c) =>
          c.argv[0] === 'grpcurl' ||
          dtgArgs(c.argv) !== undefined ||
          isHookCurl(c.argv) ||
          isShellVariable(c.text),
      ),
  }))
  .filter((d) => d.commands.length > 0);

describe('every command in the docs', () => {
  it('is either replayed here or known not to run against the sandbox', () => {
    const unclassified = documents()
      .flatMap(shellCommands)
      .filter((c) => c.argv[0] !== 'grpcurl' && dtgArgs(c.argv) === undefined)
      .filter((c) => !isHookCurl(c.argv) && !isShellVariable(c.text))
      .filter((c) => !NOT_FOR_THE_SANDBOX.some(([re]) => re.test(c.text)))
      .map((c) => `${c.doc}:${c.line}: ${c.text}`);
    expect(unclassified).toEqual([]);
  });

  it('finds the README examples (a control: the extraction works)', () => {
    const readme = runnable.find((d) => d.doc === 'README.md')!.commands;
    expect(readme.filter((c) => c.argv[0] === 'grpcurl').length).toBeGreaterThanOrEqual(15);
    expect(readme.filter((c) => dtgArgs(c.argv)).length).toBeGreaterThanOrEqual(8);
  });

  describe.each(runnable)('$doc', ({ doc, commands }) => {
    let gw: TestGateway;
    let lastId: string | undefined;
    let lastRecipient: string | undefined;
    let lastAuthorizeUrl: string | undefined;
    let lastRedirect: LoginRedirect | undefined;
    // The shell variables the document's blocks set so far (the identity-server recipes).
    const vars: Record<string, string> = {};
    beforeAll(async () => {
      gw = await startGateway();
    });
    afterAll(() => gw.stop());

    const substitute = (word: string): string =>
      word
        .replace('127.0.0.1:50051', gw.app.grpc.address)
        .replace('PASTE_THE_ID', () => lastId ?? 'no verification id was printed yet')
        .replace('PASTE_THE_STATE', () => lastRedirect?.state ?? 'no browser step came before')
        .replace('PASTE_THE_AUTH_CODE', () => lastRedirect?.authCode ?? 'no browser step came before')
        .replace('123456', () => (lastRecipient ? latestCode(gw, lastRecipient) : '123456'));

    it.each(commands.map((c) => [`line ${c.line}: ${c.text.slice(0, 90)}`, c] as const))(
      '%s',
      async (_name, command: ShellCommand & { picks: string[] }) => {
        for (const pick of command.picks) {
          expect({ pick, authorizeUrl: lastAuthorizeUrl }).toEqual({
            pick,
            authorizeUrl: expect.any(String),
          });
          lastRedirect = await loginAs(lastAuthorizeUrl!, pick);
        }
        if (isShellVariable(command.text)) {
          const name = /^[a-z][a-z0-9_]*/.exec(command.text)![0];
          const set = await runSh(`${command.text}\nprintf '%s' "$${name}"`, vars);
          expect({ exitCode: set.exitCode, stderr: set.stderr }).toEqual({ exitCode: 0, stderr: '' });
          vars[name] = set.stdout;
          return;
        }
        if (isHookCurl(command.argv)) return replayCurl(command, doc);
        const dtg = dtgArgs(command.argv);
        const inboxBefore = gw.app.simulator!.inbox.length;
        const outcome = dtg
          ? await runDtg(dtg.map(substitute), gw.app.grpc.address)
          : await runGrpcurl(command.argv.slice(1).map(substitute));
        const expected = STATUS.exec(command.comment)?.[1];
        const report = `${doc}:${command.line}\n$ ${command.text}\nexit ${outcome.exitCode}\n${outcome.stdout}${outcome.stderr}`;

        if (expected) {
          const exitCode = dtg ? 1 : 64 + GRPC_CODES.indexOf(expected);
          expect({ exitCode: outcome.exitCode, report }).toEqual({ exitCode, report });
          // dtg names the status as it is spelled (FAILED_PRECONDITION), grpcurl in camel case (FailedPrecondition).
          const squash = (s: string) => s.toLowerCase().replace(/_/g, '');
          expect(squash(outcome.stderr)).toContain(squash(expected));
          return;
        }
        expect({ exitCode: outcome.exitCode, report }).toEqual({ exitCode: 0, report });

        const sent = gw.app.simulator!.inbox.slice(inboxBefore);
        const isSend = dtg ? dtg[0] === 'send' : command.argv.some((a) => a.endsWith('/SendCode'));
        if (isSend) {
          // The separator is anything outside the id's alphabet: `\W+` also ate an id's leading '-'.
          const id = /verification[ _]?id[^A-Za-z0-9_-]+([A-Za-z0-9_-]{16,})/i.exec(outcome.stdout);
          expect({ id: id?.[1], report }).toEqual({ id: expect.any(String), report });
          expect(sent).toHaveLength(1);
          lastId = id![1];
          lastRecipient = sent[0].userid;
        }
        const isVerify = dtg ? dtg[0] === 'verify' : command.argv.some((a) => a.endsWith('/VerifyCode'));
        if (isVerify) expect(outcome.stdout).toMatch(/approved/i);
        const isTest = dtg ? dtg[0] === 'test' : command.argv.some((a) => a.endsWith('/TestScenario'));
        if (isTest) {
          expect(outcome.stdout).toMatch(/delivered/i);
          expect(sent).toHaveLength(1);
        }
        const authorize = /"authorize_?url"\s*:\s*"([^"]+)"/i.exec(outcome.stdout);
        if (authorize) lastAuthorizeUrl = authorize[1];
        const isHealth = dtg ? dtg[0] === 'health' : command.argv.some((a) => a.endsWith('Health/Check'));
        if (isHealth) expect(outcome.stdout).toMatch(/SERVING/);
      },
    );

    /** A curl against the hooks, as the docs say, with the answer's status appended to its output. */
    async function replayCurl(command: ShellCommand, doc: string): Promise<void> {
      const hooks = gw.app.hooks!.url.replace('http://', '');
      const inboxBefore = gw.app.simulator!.inbox.length;
      const script = `${command.text.replaceAll(HOOKS, hooks)} -w '\n%{http_code}'`;
      const outcome = await runSh(script, vars);
      const lines = outcome.stdout.split('\n');
      const status = Number(lines.pop());
      const report = `${doc}:${command.line}\n$ ${command.text}\nexit ${outcome.exitCode}\n${outcome.stdout}${outcome.stderr}`;
      expect({ exitCode: outcome.exitCode, report }).toEqual({ exitCode: 0, report });
      const sent = gw.app.simulator!.inbox.slice(inboxBefore);
      const expected = HTTP_STATUS.exec(command.comment)?.[1];
      if (expected) {
        expect({ status, delivered: sent.length, report }).toEqual({
          status: Number(expected),
          delivered: 0,
          report,
        });
        return;
      }
      expect({ ok: status >= 200 && status < 300, report }).toEqual({ ok: true, report });
      expect({ delivered: sent.length, report }).toEqual({ delivered: 1, report });
      const codes = [...sent[0].text.matchAll(/\b\d{6}\b/g)].map((m) => m[0]);
      const said = `${command.text} ${Object.values(vars).join(' ')}`;
      expect({ code: codes.find((c) => said.includes(c)), report }).toEqual({
        code: expect.any(String),
        report,
      });
    }
  });
});
