// What a subcommand is, and the argument parsing every command shares.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './user-error.js';

export interface Command {
  /** The word after `tessera`. */
  name: string;
  /** One line for `tessera --help`. */
  summary: string;
  /** Full help for `tessera <name> --help`; its first paragraph is the short usage shown on errors. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommandArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

/**
 * node:util parseArgs in strict mode, with its errors (unknown flag, missing
 * flag value) turned into UsageErrors so main answers them with exit code 2.
 */
export function parseCommandArgs(args: string[], options: Options): ParsedCommandArgs {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    const message = (e as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
}
