// "Did you mean ...?" for misspelt keys and enum values.

/** Levenshtein edit distance (insert, delete, substitute; each costs 1). Two-row DP. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Array<number>(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur[j] = Math.min(sub, prev[j]! + 1, cur[j - 1]! + 1);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word`, or undefined when none is close enough.
 * Close means: edit distance <= 2 (<= 1 for words of 3 characters or fewer,
 * where 2 edits would match nearly anything), compared case-insensitively,
 * or one being a prefix of the other (`learning` -> `learning_rate`).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let score = editDistance(w, lc);
    const limit = Math.min(w.length, lc.length) <= 3 ? 1 : 2;
    if (score > limit) {
      // A prefix counts as close, but ranks behind any real near-miss.
      if (w.length >= 3 && (lc.startsWith(w) || w.startsWith(lc))) score = limit + 0.5;
      else continue;
    }
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}
