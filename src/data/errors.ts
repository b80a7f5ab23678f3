// The one error type of data and weight loading. Its message is a single
// line that names the file and what was wrong with it, so the CLI can print
// it as is (no stack trace) and a browser page can show it to a person.

export class DataError extends Error {
  /** The file (or other source, e.g. a URL) the problem is in. */
  readonly source: string;
  /** A user's input is wrong, not Tessera: the CLI prints the message alone and exits 1. */
  readonly isUserError = true;
  constructor(source: string, message: string) {
    super(message);
    this.name = 'DataError';
    this.source = source;
  }
}

/** 47040000 -> "47,040,000" (fixed locale, so messages are the same everywhere). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
