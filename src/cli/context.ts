import type { CommandLine, OptionSpecs } from './args';
import type { Connection } from './connection';

/**
 * What a dtg command is, kept apart from the command tables so that they and their users
 * import it without importing each other. Each command returns the response's proto3 JSON
 * (via the generated toJSON) and its human rendering; dtg.ts prints one or the other.
 */

export interface Context {
  /** Positional arguments by name. */
  args: Record<string, string | undefined>;
  options: CommandLine['options'];
  /** Resolved on first use, after the command checked its own arguments. */
  connection(): Connection;
  now(): number;
  /** The first line of stdin (prompting on a terminal), for a code given as `-`. */
  readStdinLine(prompt: string): Promise<string>;
}

export interface Outcome {
  json: unknown;
  human: string[];
  /** False turns a completed call into exit 1 (health that is not SERVING). */
  ok?: boolean;
}

export interface Command {
  summary: string;
  args: string[];
  optionalArgs?: string[];
  /** Usage line after `dtg <name>` when args and options alone do not say it. */
  synopsis?: string;
  description: string[];
  options: OptionSpecs;
  run(ctx: Context): Promise<Outcome>;
}
