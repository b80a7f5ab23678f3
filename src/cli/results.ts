// How results read in the CLI's output. train and eval print the same test
// line, so that their accuracies can be compared as text.

import type { EvalResult } from '../runtime/backend.js';
import { exampleNoun } from '../data/facts.js';
import { formatInt } from './format.js';

export const pct = (x: number, digits: number) => `${(100 * x).toFixed(digits)}%`;

/** A metric's value as people read it: accuracies in percent, errors with 4 decimals. */
export function metricText(name: string, value: number, digits: number): string {
  return name.endsWith('accuracy') ? pct(value, digits) : value.toFixed(4);
}

/** Each metric as "name value", two spaces apart; `label` may shorten a name (accuracy as acc). */
export function metricsText(metrics: Record<string, number>, digits: number, label: (name: string) => string = (n) => n, width = 0): string {
  return Object.entries(metrics).map(([n, v]) => `  ${label(n)} ${metricText(n, v, digits).padStart(n.endsWith('accuracy') ? width : 0)}`).join('');
}

/**
 * "test  loss 0.0712  accuracy 97.81%  (10,000 images)", with each of the
 * model's metrics; the examples are named as the data holds them (images,
 * CSV rows, text windows: exampleNoun).
 */
export function testLine(r: EvalResult, data: { format: string | undefined; inputShape: readonly number[] | undefined }): string {
  return `test  loss ${r.loss.toFixed(4)}${metricsText(r.metrics, 2)}  (${formatInt(r.samples)} ${exampleNoun(data.format, data.inputShape, r.samples)})`;
}
