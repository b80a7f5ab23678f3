// The `tessera` command line: global flags, dispatch to a subcommand, and
// the mapping of failures to exit codes:
//   0 ok · 1 the user's input is invalid · 2 bad command line · 70 a bug (EX_SOFTWARE).

import { readFileSync } from 'node:fs';
import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { renderTable } from './format.js';
import { UsageError, isUserError } from './user-error.js';

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return usageError('no command given');
  if (first === '--help' || first === '-h') return print(globalHelp());
  if (first === 'help') {
    if (rest[0] === undefined) return print(globalHelp());
    const cmd = findCommand(rest[0]);
    return cmd ? print(cmd.usage) : usageError(`unknown command '${rest[0]}'`);
  }
  if (first === '--version' || first === '-V') return print(version());
  if (first.startsWith('-')) return usageError(`unknown option '${first}'`);

  const cmd = findCommand(first);
  if (!cmd) return usageError(`unknown command '${first}'`);
  if (wantsHelp(rest)) return print(cmd.usage);
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message, cmd);
    if (isUserError(e)) {
      process.stderr.write(`${e.message}\n`);
      return e.exitCode ?? 1;
    }
    process.stderr.write(`tessera: internal error (this is a bug in Tessera)\n${(e as Error)?.stack ?? String(e)}\n`);
    return 70;
  }
}

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** `--help` / `-h` anywhere before a `--` terminator. */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function print(text: string): number {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}

/** Short usage on stderr, exit code 2. */
function usageError(message: string, cmd?: Command): number {
  const usage = cmd ? cmd.usage.split('\n\n')[0] : 'Usage: tessera <command> [options]';
  const more = cmd ? `tessera ${cmd.name} --help` : 'tessera --help';
  process.stderr.write(`tessera${cmd ? ` ${cmd.name}` : ''}: ${message}\n${usage}\nRun '${more}' for more.\n`);
  return 2;
}

function globalHelp(): string {
  const commands = renderTable(COMMANDS.map((c) => [c.name, c.summary]), undefined, { indent: 2, gap: 3 });
  return `Tessera: neural networks written as YAML files, trained on WebGPU and WebAssembly SIMD kernels.

Usage: tessera <command> [options]

Commands:
${commands}

Options:
  -h, --help     show help (also: tessera help <command>, tessera <command> --help)
  -V, --version  show the version

Exit codes: 0 success, 1 invalid input, 2 bad command line, 70 internal error.`;
}

/** The package version; package.json is two levels up from both src/cli and dist/cli. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return `tessera ${pkg.version}`;
}
