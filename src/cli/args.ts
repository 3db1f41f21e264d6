import { parseArgs } from 'node:util';

/**
 * Command-line parsing for dtg: node:util parseArgs reads the words, and this module
 * applies the rules parseArgs cannot know (which options a command takes, what a value
 * may be), so every mistake becomes one UsageError with a one-line reason. Messages
 * name options and commands but never echo a value: a misplaced token or mobile number
 * must not end up in a terminal's scrollback.
 */

/** A flag or an option with a value; `value` is the placeholder shown in --help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  value?: string;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Bad usage (exit 2). `command` points the reader at that command's --help. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Options every command accepts, before or after the command name. */
export const GLOBAL_OPTIONS = {
  address: {
    type: 'string',
    value: 'ADDRESS',
    help: "the gateway: host:port or unix:/path (env DTG_ADDRESS, else the gateway's own LISTEN_ADDRESS; default 127.0.0.1:50051)",
  },
  tls: { type: 'boolean', help: "use TLS, trusting the system's root certificates" },
  ca: { type: 'string', value: 'FILE', help: 'use TLS, trusting this CA certificate (PEM) instead' },
  cert: { type: 'string', value: 'FILE', help: 'client certificate (PEM) for mutual TLS; needs --key' },
  key: { type: 'string', value: 'FILE', help: 'private key (PEM) of --cert' },
  'server-name': { type: 'string', value: 'NAME', help: "the name to expect in the server's certificate" },
  timeout: { type: 'string', value: 'SECONDS', help: 'deadline of the call (default 10)' },
  'token-file': {
    type: 'string',
    value: 'FILE',
    help: 'send the bearer token read from FILE (env AUTH_TOKEN_FILE)',
  },
  token: {
    type: 'string',
    value: 'TOKEN',
    help: 'send this bearer token (env AUTH_TOKEN); visible in the process list, so prefer --token-file',
  },
  json: { type: 'boolean', help: 'print the response as proto3 JSON, one document on stdout' },
  help: { type: 'boolean', short: 'h', help: 'print usage and exit' },
  version: { type: 'boolean', help: "print dtg's version and exit" },
} satisfies OptionSpecs;

/** What the command line asked for; option values are strings or true. */
export interface CommandLine {
  command: string | undefined;
  positionals: string[];
  options: Record<string, string | true>;
}

/**
 * Splits argv into the command, its positional arguments and its options. Options may
 * stand before or after the command; `commandOptions` says which a given command takes,
 * and any other is refused (unless --help is asked for, which always wins).
 */
export function parseCommandLine(argv: string[], commandOptions: Record<string, OptionSpecs>): CommandLine {
  const known: OptionSpecs = Object.assign({}, GLOBAL_OPTIONS, ...Object.values(commandOptions));
  const config = Object.fromEntries(
    Object.entries(known).map(([name, o]) => [
      name,
      o.short ? { type: o.type, short: o.short } : { type: o.type },
    ]),
  );
  const { tokens } = parseArgs({
    args: argv,
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  const seen: Array<{ name: string; rawName: string; value: string | undefined; inline: boolean }> = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    else if (t.kind === 'option')
      seen.push({ name: t.name, rawName: t.rawName, value: t.value, inline: t.inlineValue === true });
  }
  const command = positionals.shift();
  const allowed: OptionSpecs = { ...GLOBAL_OPTIONS, ...(command ? commandOptions[command] : undefined) };
  const where = command && command in commandOptions ? command : undefined;
  const help = seen.some((o) => o.name === 'help');
  for (const o of seen) {
    const spec = allowed[o.name];
    if (!spec) {
      if (help) continue;
      const elsewhere = Object.keys(commandOptions).filter((c) => o.name in commandOptions[c]);
      throw new UsageError(
        elsewhere.length > 0 && where
          ? `\`dtg ${where}\` takes no option ${o.rawName} (${elsewhere.map((c) => `dtg ${c}`).join(', ')} do)`
          : `unknown option ${o.rawName}`,
        where,
      );
    }
    if (spec.type === 'boolean') {
      if (o.value !== undefined) throw new UsageError(`option --${o.name} takes no value`, where);
      options[o.name] = true;
    } else {
      if (o.value === undefined || (!o.inline && o.value.startsWith('-') && o.value !== '-'))
        throw new UsageError(`option --${o.name} needs a value (${spec.value ?? 'VALUE'})`, where);
      options[o.name] = o.value;
    }
  }
  return { command, positionals, options };
}

/** The positional arguments of a command, by name; too few or too many is a UsageError. */
export function takePositionals(
  command: string,
  positionals: string[],
  required: string[],
  optional: string[] = [],
): Record<string, string | undefined> {
  if (positionals.length < required.length) {
    const missing = required.slice(positionals.length);
    throw new UsageError(`missing ${missing.map((m) => `<${m}>`).join(' ')}`, command);
  }
  const max = required.length + optional.length;
  if (positionals.length > max) {
    const names = [...required.map((r) => `<${r}>`), ...optional.map((o) => `[${o}]`)].join(' ');
    throw new UsageError(
      `too many arguments: \`dtg ${command}\` takes ${max === 0 ? 'none' : names}, got ${positionals.length}`,
      command,
    );
  }
  const out: Record<string, string | undefined> = {};
  [...required, ...optional].forEach((name, i) => (out[name] = positionals[i]));
  return out;
}

/** Words of `text` in lines of at most `width` characters, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const limit = lines.length === 0 ? width : width - indent.length;
    if (line && line.length + 1 + word.length > limit) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/** Help lines for a set of options, aligned, wrapped to 100 columns. */
export function optionHelp(specs: OptionSpecs): string[] {
  const rows = Object.entries(specs).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`,
    o.help,
  ]);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(
    ([left, right]) => `  ${left.padEnd(width)}${wrap(right, 98 - width, ' '.repeat(width + 2))}`,
  );
}

/** An option's string value, or undefined when absent. */
export const stringOption = (options: CommandLine['options'], name: string): string | undefined => {
  const v = options[name];
  return typeof v === 'string' ? v : undefined;
};
