// Whether a dataset gives what the graph's loss reads: float targets of the
// graph's target width (regression losses, one-hot labels), checked by every
// backend before it trains or evaluates on a slot. Browser-safe.

import type { DatasetTensors } from '../data/types.js';

/** What a dataset holds of targets: examples, floats per example (0: none), floats in all. */
export interface TargetShape { count: number; width: number; floats: number }

export function targetShape(data: DatasetTensors): TargetShape {
  return { count: data.count, width: data.targets ? data.targetWidth ?? 0 : 0, floats: data.targets?.length ?? 0 };
}

/** A message when a dataset lacks the targets a graph with `targetWidth` reads (0: it reads class labels only), else null. */
export function targetsProblem(slot: string, have: TargetShape, targetWidth: number): string | null {
  if (targetWidth === 0) return null;
  if (have.width === 0) return `the ${slot} dataset has no float targets, and the loss reads ${targetWidth} per example`;
  if (have.width !== targetWidth) return `the ${slot} dataset has ${have.width} targets per example, the loss reads ${targetWidth}`;
  if (have.floats < have.count * targetWidth) return `the ${slot} dataset: ${have.count} examples of ${targetWidth} targets need ${have.count * targetWidth} floats, got ${have.floats}`;
  return null;
}

/** Throws targetsProblem's message, if any. */
export function checkTargets(slot: string, have: TargetShape, targetWidth: number): void {
  const problem = targetsProblem(slot, have, targetWidth);
  if (problem) throw new Error(problem);
}
