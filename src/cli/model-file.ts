// A model file as the commands read it: its spec (with every diagnostic
// printed as `tessera validate` prints it) and its dataset, the spec
// checked again against what the data holds (so a model that does not fit
// its data fails at the YAML line, naming the file and both shapes).

import { dirname } from 'node:path';
import { countErrors, formatConfigErrors } from '../config/errors.js';
import { validateModelFile } from '../config/load-file.js';
import type { ModelSpec } from '../config/types.js';
import { loadDataset, type LoadedData, type LoadOptions } from '../data/load-node.js';
import type { DataFacts } from '../data/types.js';
import { useColor } from './format.js';
import { UserError } from './user-error.js';

/**
 * Reads and validates a model file (against `data` when given). Invalid: a
 * UserError whose message is every diagnostic with its line and caret, as
 * `tessera validate` prints them. Warnings of a valid file go to stderr
 * unless `quiet`.
 */
export async function loadModelSpec(file: string, options: { data?: DataFacts; quiet?: boolean } = {}): Promise<ModelSpec> {
  const result = await validateModelFile(file, options.data ? { data: options.data } : {});
  const color = useColor(process.stderr);
  if (!result.ok) {
    const text = formatConfigErrors([...result.errors, ...result.warnings], { color });
    const lone = result.errors.length === 1 && result.errors[0]!.line === 0;
    throw new UserError(lone ? text : `${text}\n\n${countErrors(result.errors.length)} in ${file}`);
  }
  if (result.warnings.length > 0 && !options.quiet) process.stderr.write(`${formatConfigErrors(result.warnings, { color })}\n\n`);
  return result.spec;
}

/** The train and test sets of a model file (and its validation set, when it names one) (paths in the spec are already absolute). */
export function loadModelData(spec: ModelSpec, file: string, options: LoadOptions = {}): Promise<LoadedData> {
  return loadDataset(spec, dirname(file), options);
}

/**
 * The spec checked against its data, and the data: validates the file,
 * loads its dataset (a `seed` override first, since test_split draws with
 * it), then validates again with what the data holds, which also fills a
 * left-out input_shape.
 */
export async function loadModelWithData(file: string, overrides: { seed?: number } & LoadOptions = {}): Promise<{ spec: ModelSpec; data: LoadedData }> {
  const first = await loadModelSpec(file);
  if (overrides.seed !== undefined) first.seed = overrides.seed;
  const data = await loadModelData(first, file, overrides.saved ? { saved: overrides.saved } : {});
  const spec = await loadModelSpec(file, { data: data.facts, quiet: true });
  spec.seed = first.seed;
  return { spec, data };
}
