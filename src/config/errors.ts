// Config diagnostics: the data type every check produces, and the text form
// the CLI prints (`file:line:col: error: message` plus the source line with a
// caret). Browser-safe: no Node imports.

/** One problem found in a model file. Positions are 1-based; 0 means "the whole file" (e.g. unreadable). */
export interface ConfigError {
  file: string;
  line: number;
  column: number;
  /** Last column (exclusive) of the offending node on `line`, for a caret span; absent for a single caret. */
  endColumn?: number;
  message: string;
  /** What the schema or the shape rules wanted, in words (also part of `message`). */
  expected?: string;
  /** What the file has, in words (also part of `message`). */
  found?: string;
  /** A suggestion for fixing it, printed on its own line. */
  hint?: string;
  /** Machine-readable kind, stable for tools and the web page. */
  code: ConfigErrorCode;
  severity: 'error' | 'warning';
  /** Path of the node in the document (keys and list indices), when known. */
  path?: (string | number)[];
  /** The text of line `line`, kept so the error can be printed without the source. */
  sourceLine?: string;
}

export type ConfigErrorCode =
  | 'file' // cannot read the file
  | 'syntax' // YAML syntax error
  | 'duplicate-key'
  | 'unknown-key'
  | 'missing-key'
  | 'type'
  | 'range'
  | 'enum'
  | 'schema' // any other schema rule
  | 'shape' // shape inference after the schema passed
  | 'yaml-warning'
  | 'lint'; // a legal but suspicious setting (warning)

export interface FormatOptions {
  /** Wrap severities in ANSI colours (for terminals). */
  color?: boolean;
}

const ansi = (code: string, s: string, on: boolean | undefined) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/**
 * Formats one diagnostic like a compiler does:
 *
 *     models/bad.yaml:12:5: error: unknown key 'unts' in dense layer; did you mean 'units'?
 *        12 |     unts: 128
 *           |     ^^^^
 */
export function formatConfigError(err: ConfigError, options: FormatOptions = {}): string {
  const where = err.line > 0 ? `${err.file}:${err.line}:${err.column}` : err.file;
  const sev = err.severity === 'warning' ? ansi('1;33', 'warning', options.color) : ansi('1;31', 'error', options.color);
  const out = [`${where}: ${sev}: ${err.message}`];
  if (err.line > 0 && err.sourceLine !== undefined) {
    const num = String(err.line);
    const gutter = ' '.repeat(3 + num.length);
    const src = err.sourceLine.replace(/\s+$/, '');
    // Keep tabs in the caret line's indent so the caret stays under the column.
    const indent = err.sourceLine.slice(0, err.column - 1).replace(/[^\t]/g, ' ');
    const end = Math.min(err.endColumn ?? err.column + 1, src.length + 1);
    const width = Math.max(1, end - err.column);
    out.push(`   ${num} | ${src}`);
    out.push(`${gutter} | ${indent}${ansi('1;31', '^'.repeat(width), options.color)}`);
  }
  if (err.hint) out.push(`${' '.repeat(3)}= hint: ${err.hint}`);
  return out.join('\n');
}

/** Formats a list of diagnostics, blank-line separated, in the order given. */
export function formatConfigErrors(errors: readonly ConfigError[], options: FormatOptions = {}): string {
  return errors.map((e) => formatConfigError(e, options)).join('\n\n');
}

/** "1 error", "3 errors". */
export function countErrors(n: number, noun = 'error'): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Orders diagnostics by position in the file (whole-file ones first), then by message for stability. */
export function sortBySource(errors: ConfigError[]): ConfigError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

/**
 * Thrown by loadModelConfig when a model file is invalid. `message` is the
 * full formatted report, so an uncaught one still reads well; `errors` has
 * the structured list. `isUserError` tells the CLI to print the message
 * without a stack trace.
 */
export class ConfigErrors extends Error {
  readonly errors: ConfigError[];
  readonly warnings: ConfigError[];
  readonly isUserError = true;

  constructor(errors: ConfigError[], warnings: ConfigError[] = []) {
    const file = errors[0]?.file ?? '<input>';
    // A single whole-file error (missing file) stays one line.
    const oneLine = errors.length === 1 && errors[0]!.line === 0;
    super(oneLine ? formatConfigError(errors[0]!) : `${formatConfigErrors(errors)}\n\n${countErrors(errors.length)} in ${file}`);
    this.name = 'ConfigErrors';
    this.errors = errors;
    this.warnings = warnings;
  }
}
