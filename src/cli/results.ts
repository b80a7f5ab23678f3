// How results read in the CLI's output. train and eval print the same test
// line, so that their accuracies can be compared as text.

import type { EvalResult } from '../runtime/backend.js';
import { formatInt } from './format.js';

export const pct = (x: number, digits: number) => `${(100 * x).toFixed(digits)}%`;

/** "test  loss 0.0712  accuracy 97.81%  (10,000 images)" */
export function testLine(r: EvalResult): string {
  return `test  loss ${r.loss.toFixed(4)}  accuracy ${pct(r.accuracy, 2)}  (${formatInt(r.samples)} images)`;
}
