// Maps a document path (keys and list indices, as in ajv's instancePath) or
// a character offset back to line:column in the YAML source, using the node
// ranges that `yaml` keeps. Browser-safe.

import { isMap, isScalar, isSeq, isCollection, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/** Where a diagnostic points: 1-based line/column, optional caret end on the same line. */
export interface SourceRef {
  line: number;
  column: number;
  endColumn?: number;
  sourceLine: string;
}

/**
 * Which part of a `key: value` entry to point at:
 * - 'key': the key (unknown keys);
 * - 'value': the value (wrong type, out of range, unknown enum value);
 * - 'entry': the value if it fits on one line (scalar or flow collection),
 *   else the key, or the start of a list item (missing keys, shape errors).
 */
export type Target = 'key' | 'value' | 'entry';

export class SourceLocator {
  private readonly lines: string[];

  constructor(
    text: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {
    this.lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  }

  /** Position of a character range; the caret spans it when it stays on one line. */
  at(start: number, end?: number): SourceRef {
    const { line, col } = this.lineCounter.linePos(start);
    const ref: SourceRef = { line, column: col, sourceLine: this.lines[line - 1] ?? '' };
    if (end !== undefined && end > start) {
      const e = this.lineCounter.linePos(end);
      if (e.line === line) ref.endColumn = e.col;
    }
    return ref;
  }

  /** Position of the node at `path`, or of its deepest existing ancestor. */
  find(path: readonly (string | number)[], target: Target = 'entry'): SourceRef {
    let node: unknown = this.doc.contents;
    let key: Node | undefined; // key node of the last map entry walked through
    for (const seg of path) {
      if (isMap(node)) {
        // The last of duplicate keys, as that is the value the data holds.
        const pair = [...node.items].reverse().find((p) => keyText(p) === String(seg));
        if (!pair) break;
        key = isScalar(pair.key) || isCollection(pair.key) ? (pair.key as Node) : undefined;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        key = undefined;
        node = node.items[seg];
      } else {
        break;
      }
    }
    const value = hasRange(node) && !isEmptyScalar(node) ? node : undefined;
    let chosen: Node | undefined;
    if (target === 'key') chosen = key ?? value;
    else if (target === 'value') chosen = value ?? key;
    else chosen = value && (isScalar(value) || (isCollection(value) && value.flow)) ? value : (key ?? value);
    if (!chosen?.range) return this.at(0);
    return this.at(chosen.range[0], chosen.range[1]);
  }
}

/** The text of a map entry's key (`units`), for matching against path segments. */
export function keyText(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function hasRange(node: unknown): node is Node {
  return typeof node === 'object' && node !== null && Array.isArray((node as Node).range);
}

/** `key:` with nothing after it parses as a zero-width null scalar; point at the key instead. */
function isEmptyScalar(node: Node): boolean {
  return isScalar(node) && node.value === null && node.range![0] === node.range![1];
}
