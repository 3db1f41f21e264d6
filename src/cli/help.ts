import { GLOBAL_OPTIONS, optionHelp, wrap, type OptionSpecs } from './args';
import { COMMANDS } from './commands';
import type { Command } from './context';
import { scenarioHelp } from './scenarios';

/**
 * The --help texts, built from the same command and option tables the parser uses, so
 * usage and behaviour cannot drift apart. No default shown here is ever a token's value.
 */

const pick = (names: string[]): OptionSpecs =>
  Object.fromEntries(names.map((n) => [n, GLOBAL_OPTIONS[n as keyof typeof GLOBAL_OPTIONS]]));

const CONNECTION = pick([
  'address',
  'tls',
  'ca',
  'cert',
  'key',
  'server-name',
  'timeout',
  'token-file',
  'token',
]);
const OUTPUT = pick(['json', 'help', 'version']);

/** `send <scenario> <user> [options]`. */
export function synopsis(name: string, c: Command): string {
  if (c.synopsis) return `${name} ${c.synopsis}`;
  const args = [...c.args.map((a) => `<${a}>`), ...(c.optionalArgs ?? []).map((a) => `[${a}]`)];
  return [name, ...args, '[options]'].join(' ');
}

export function topLevelHelp(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => [
    synopsis(name, c).replace(/ \[options\]$/, ''),
    c.summary,
  ]);
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)) + 2);
  const commands = rows.map(([left, right]) =>
    left.length + 2 > width ? `  ${left}\n  ${''.padEnd(width)}${right}` : `  ${left.padEnd(width)}${right}`,
  );
  return [
    'dtg: command-line client of dingtalk-gateway (one command per RPC)',
    '',
    'Usage: dtg <command> [arguments] [options]',
    '       (in a development checkout: npm run -s dtg -- <command> [arguments] [options])',
    '',
    'Commands:',
    ...commands,
    '',
    wrap(
      `Scenarios: ${scenarioHelp()}; hyphens for underscores and the SCENARIO_* names work too.`,
      100,
      '  ',
    ),
    '',
    'Connection options (any command):',
    ...optionHelp(CONNECTION),
    '  The token is sent as `authorization: Bearer <token>` and never printed. Without a token flag,',
    '  AUTH_TOKEN or AUTH_TOKEN_FILE is used, as the gateway reads them.',
    '',
    'Output options:',
    ...optionHelp(OUTPUT),
    '',
    'Exit status: 0 success; 1 the call failed (status name and message on stderr) or health is not',
    'SERVING; 2 bad usage.',
    'Run `dtg <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const own = Object.keys(c.options).length > 0 ? ['', 'Options:', ...optionHelp(c.options)] : [];
  const scenarios = c.args.includes('scenario') ? ['', wrap(`Scenarios: ${scenarioHelp()}.`, 100, '  ')] : [];
  return [
    `Usage: dtg ${synopsis(name, c)}`,
    '',
    `${c.summary[0].toUpperCase()}${c.summary.slice(1)}.`,
    ...c.description,
    ...own,
    ...scenarios,
    '',
    'Connection options:',
    ...optionHelp(CONNECTION),
    '',
    'Output options:',
    ...optionHelp(OUTPUT),
    '',
  ].join('\n');
}
