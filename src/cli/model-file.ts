// A model file as the commands read it: its spec (with every diagnostic
// printed as `tessera validate` prints it) and its dataset.

import { dirname } from 'node:path';
import { countErrors, formatConfigErrors } from '../config/errors.js';
import { validateModelFile } from '../config/load-file.js';
import type { ModelSpec } from '../config/types.js';
import { loadMnist } from '../data/node.js';
import type { DatasetTensors } from '../runtime/backend.js';
import { useColor } from './format.js';
import { UserError } from './user-error.js';

/**
 * Reads and validates a model file. Invalid: a UserError whose message is
 * every diagnostic with its line and caret, as `tessera validate` prints
 * them. Warnings of a valid file go to stderr.
 */
export async function loadModelSpec(file: string): Promise<ModelSpec> {
  const result = await validateModelFile(file);
  const color = useColor(process.stderr);
  if (!result.ok) {
    const text = formatConfigErrors([...result.errors, ...result.warnings], { color });
    const lone = result.errors.length === 1 && result.errors[0]!.line === 0;
    throw new UserError(lone ? text : `${text}\n\n${countErrors(result.errors.length)} in ${file}`);
  }
  if (result.warnings.length > 0) process.stderr.write(`${formatConfigErrors(result.warnings, { color })}\n\n`);
  return result.spec;
}

/** The MNIST train and test sets of a model file (and its validation files, when it names them) (paths in the spec are already absolute). */
export function loadModelData(spec: ModelSpec, file: string): Promise<{ train: DatasetTensors; test: DatasetTensors; validation?: DatasetTensors; source: string }> {
  return loadMnist(spec.dataset, dirname(file));
}
