// Errors that are the user's mistake (a bad flag, a missing data file): the
// CLI prints their message alone, without a stack trace, and exits with
// `exitCode`. Library code that must not import from src/cli can get the
// same treatment by setting `isUserError = true` on its own Error class
// (ConfigErrors does).

export class UserError extends Error {
  readonly isUserError = true;
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'UserError';
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A malformed command line: main prints it with the command's short usage and exits 2. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

/** Whether `e` is a user's mistake (UserError, ConfigErrors, or any error marked isUserError). */
export function isUserError(e: unknown): e is Error & { exitCode?: number } {
  return e instanceof Error && (e as { isUserError?: unknown }).isUserError === true;
}
