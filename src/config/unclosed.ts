// Finds the `[` and `{` of a model file that are never closed. The yaml
// parser only notices a missing `]` or `}` where the flow collection runs
// into a line it cannot belong to, which may be many lines later or the end
// of the file; the useful place to point at is the bracket that opened it.
// Browser-safe.

import { isCollection, visit, type Document, type YAMLError } from 'yaml';
import type { SourceLocator } from './locate.js';

export interface OpenBracket {
  /** Offset of the `[` or `{` in the source text. */
  offset: number;
  char: '[' | '{';
}

/** Every flow collection whose closing bracket is missing, in document order. Needs `keepSourceTokens`. */
export function unclosedBrackets(doc: Document): OpenBracket[] {
  const open: OpenBracket[] = [];
  visit(doc, (_key, node) => {
    if (!isCollection(node)) return;
    const token = node.srcToken;
    if (token?.type !== 'flow-collection') return;
    const char = token.start.source as OpenBracket['char'];
    // Same test as the composer: the first token after the items must be the matching bracket.
    if (token.end[0]?.source !== (char === '[' ? ']' : '}')) open.push({ offset: token.start.offset, char });
  });
  return open;
}

/**
 * The bracket a yaml "must end with a ]" / "… with a }" error is about: the
 * innermost still-unclaimed open bracket of that kind before the error,
 * since the composer reports inner collections before outer ones. Claimed
 * brackets are removed from `open`, so nested unclosed brackets each get
 * their own. Undefined for any other error.
 */
export function bracketOf(error: YAMLError, open: OpenBracket[]): OpenBracket | undefined {
  if (error.code !== 'BAD_INDENT' && error.code !== 'MISSING_CHAR') return undefined;
  const want = /end with a ([\]}])/.exec(error.message)?.[1];
  if (!want) return undefined;
  const char = want === ']' ? '[' : '{';
  let best = -1;
  open.forEach((b, i) => {
    if (b.char === char && b.offset < error.pos[0] && (best < 0 || b.offset > open[best]!.offset)) best = i;
  });
  return best < 0 ? undefined : open.splice(best, 1)[0];
}

/** "YAML syntax: '[' is never closed; a flow sequence must end with a ]" */
export function unclosedMessage(b: OpenBracket): string {
  return b.char === '['
    ? "YAML syntax: '[' is never closed; a flow sequence must end with a ]"
    : "YAML syntax: '{' is never closed; a flow map must end with a }";
}

/** Where the parser gave up looking for the bracket, as a hint (that is where yaml itself reports it). */
export function missedAt(offset: number, text: string, loc: SourceLocator): string {
  if (offset >= text.trimEnd().length) return 'the file ended before the closing bracket';
  const { line, column } = loc.at(offset);
  return `still open at line ${line}, column ${column}`;
}
