#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, takePositionals, UsageError, type OptionSpecs } from './args';
import { COMMANDS } from './commands';
import type { Context } from './context';
import { describeRpcError, isServiceError, resolveConnection, type Connection } from './connection';
import { commandHelp, topLevelHelp } from './help';

/**
 * dtg, the gateway's command-line client: `dtg send login alice`, `dtg test login alice`, …
 * Installed as the package's `bin` (bin/dtg loads this compiled file) and on the image's PATH,
 * so operators can `kubectl exec … -- dtg …` into the sidecar. Exit status: 0 success, 1 the
 * call failed, 2 bad usage.
 */

/** Where the process's input and output go; the entry point below passes the real ones. */
interface Io {
  argv: string[];
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => Buffer;
  readStdinLine: (prompt: string) => Promise<string>;
  now: () => number;
}

const COMMAND_OPTIONS: Record<string, OptionSpecs> = Object.fromEntries(
  Object.entries(COMMANDS).map(([name, c]) => [name, c.options]),
);

function version(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** A command name is echoed back only when it looks like one (not, say, a misplaced token). */
const shown = (word: string): string => (/^[a-z][a-z0-9-]{0,30}$/i.test(word) ? ` "${word}"` : '');

/** Runs one command line and returns the exit status. */
async function run(io: Io): Promise<number> {
  if (io.argv.length === 0) {
    io.stderr(topLevelHelp());
    return 2;
  }
  let connection: Connection | undefined;
  try {
    const line = parseCommandLine(io.argv, COMMAND_OPTIONS);
    let name = line.command;
    // `dtg help [command]` is --help by another name.
    if (name === 'help') {
      name = line.positionals.shift();
      line.options.help = true;
    }
    if (name === undefined) {
      if (line.options.help) io.stdout(topLevelHelp());
      else if (line.options.version) io.stdout(`dtg ${version()}\n`);
      else throw new UsageError('missing command');
      return 0;
    }
    const command = COMMANDS[name];
    if (!command)
      throw new UsageError(
        `unknown command${shown(name)}; expected one of ${Object.keys(COMMANDS).join(', ')}`,
      );
    if (line.options.help) {
      io.stdout(commandHelp(name));
      return 0;
    }
    if (line.options.version) {
      io.stdout(`dtg ${version()}\n`);
      return 0;
    }
    const ctx: Context = {
      args: takePositionals(name, line.positionals, command.args, command.optionalArgs),
      options: line.options,
      connection: () => (connection ??= resolveConnection(line.options, io)),
      now: io.now,
      readStdinLine: io.readStdinLine,
    };
    const outcome = await command.run(ctx);
    if (line.options.json) io.stdout(`${JSON.stringify(outcome.json, null, 2)}\n`);
    else io.stdout(`${outcome.human.join('\n')}\n`);
    return outcome.ok === false ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`dtg: ${e.message}\nRun \`dtg ${e.command ? `${e.command} ` : ''}--help\` for usage.\n`);
      return 2;
    }
    if (isServiceError(e) && connection) {
      io.stderr(`${describeRpcError(e, connection).join('\n')}\n`);
      return 1;
    }
    io.stderr(`dtg: ${(e as Error).message}\n`);
    return 1;
  }
}

/** The first line of stdin; on a terminal, after a prompt on stderr. */
async function readStdinLine(prompt: string): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  process.stdin.setEncoding('utf8');
  let data = '';
  for await (const chunk of process.stdin) {
    data += chunk as string;
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0].trim();
}

// grpc-js hands Node an IP address as the TLS server name whenever the address is one, and Node
// warns (DEP0123) on every such call; certificate checking is unaffected, so that one is dropped.
process.removeAllListeners('warning');
process.on('warning', (w: Error & { code?: string }) => {
  if (w.code !== 'DEP0123') process.stderr.write(`dtg: warning: ${w.name}: ${w.message}\n`);
});

run({
  argv: process.argv.slice(2),
  env: process.env,
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readFile: (p) => readFileSync(p),
  readStdinLine,
  now: Date.now,
}).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`dtg: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);
