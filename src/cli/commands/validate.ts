// `tessera validate <file.yaml>...`: checks model files and prints each
// one's layer table, or every error with its line and a caret.

import { countErrors, formatConfigErrors, type ConfigError } from '../../config/errors.js';
import { validateModelFile } from '../../config/load-file.js';
import { totalParams, trainableParams } from '../../config/shapes.js';
import { compileGraph, describeGraph } from '../../runtime/graph.js';
import type { ValidationResult, ValidationSuccess } from '../../config/validate.js';
import { parseCommandArgs, type Command } from '../command.js';
import { formatInt, formatShape, renderTable, useColor } from '../format.js';
import { UsageError } from '../user-error.js';
import { dirname } from 'node:path';
import { DataError } from '../../data/errors.js';
import { readDataFacts } from '../../data/headers-node.js';

export const validate: Command = {
  name: 'validate',
  summary: 'check model files and show their layers and parameter counts',
  usage: `Usage: tessera validate [--json] [--graph] [--data] <file.yaml>...

Checks each model file against the schema and the shape rules. A valid file
gets a summary and its layer table; an invalid one gets every error with its
file:line:column. Exit code 0 when all files are valid, 1 when any is not.

Options:
  --json      print the results as JSON on stdout
  --graph     also print each valid model's compiled graph: ops, buffers, slots
  --data      also read each model's data headers and check the model
              against them (example shape, classes): IDX and .npy headers,
              a CSV's first rows, image folder listings (a label scan when
              dataset.classes is not given); train reads the rest. Without
              it no data is read, and a model without input_shape shows no
              layer table
  -h, --help  show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, graph: { type: 'boolean' }, data: { type: 'boolean' } });
    if (positionals.length === 0) throw new UsageError('no model file given');
    const results: Array<{ file: string; result: ValidationResult }> = [];
    for (const file of positionals) results.push({ file, result: values.data ? await withData(file) : await validateModelFile(file) });

    if (values.json) process.stdout.write(JSON.stringify(toJson(results), null, 2) + '\n');
    else results.forEach(({ file, result }, i) => printResult(file, result, i > 0, values.graph === true));
    return results.every((r) => r.result.ok) ? 0 : 1;
  },
};

/** Validates a file, then reads its data headers (headers-node.ts) and validates it again against what they say; a data error is the file's one error. */
async function withData(file: string): Promise<ValidationResult> {
  const first = await validateModelFile(file);
  if (!first.ok) return first;
  try {
    return await validateModelFile(file, { data: await readDataFacts(first.spec, dirname(file)) });
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return { ok: false, errors: [{ file, line: 0, column: 0, message: e.message, code: 'file', severity: 'error' }], warnings: first.warnings };
  }
}

function printResult(file: string, result: ValidationResult, separate: boolean, graph = false): void {
  const color = useColor(process.stderr);
  if (separate) process.stdout.write('\n');
  if (result.ok && result.inputFromData) {
    process.stdout.write(`${file}: ok — ${result.spec.name}; input_shape comes from the data, so the layers are checked when it is read (tessera validate --data reads it now)\n`);
  } else if (result.ok) process.stdout.write(`${summaryLine(file, result)}\n\n${layerTable(result)}\n`);
  if (result.ok && graph && !result.inputFromData) process.stdout.write(`\n${describeGraph(compileGraph(result.spec))}\n`);
  const diagnostics: ConfigError[] = result.ok ? result.warnings : [...result.errors, ...result.warnings];
  if (diagnostics.length > 0) process.stderr.write(`${result.ok ? '\n' : ''}${formatConfigErrors(diagnostics, { color })}\n`);
  if (!result.ok) {
    // A lone whole-file error (unreadable file) is already one complete line.
    const lone = result.errors.length === 1 && result.errors[0]!.line === 0;
    if (!lone) process.stderr.write(`\n${countErrors(result.errors.length)} in ${file}\n`);
  }
}

/** `models/mnist.yaml: ok — mnist-mlp, 4 layers, 101,770 parameters, loss ..., optimizer adam` */
function summaryLine(file: string, r: ValidationSuccess): string {
  const { spec, layers } = r;
  const n = layers.length;
  return (
    `${file}: ok — ${spec.name}, ${n} layer${n === 1 ? '' : 's'}, ${formatInt(totalParams(layers))} parameters, ` +
    `loss ${spec.loss.type}, optimizer ${spec.optimizer.type}`
  );
}

/** Whether every layer takes just the one before it (then the table needs no edges). */
const isStack = (r: ValidationSuccess) => r.layers.every((l, i) => l.inputs.length === 1 && l.inputs[0] === (i === 0 ? 'input' : r.layers[i - 1]!.name));

/** The Keras-like layer table with the total line; a graph gets Keras's "Connected to" column. */
function layerTable(r: ValidationSuccess): string {
  const edges = !isStack(r);
  const rows = r.layers.map((l) => [l.name, l.type, formatShape(l.outputShape), formatInt(l.params), l.activation ?? '', ...(edges ? [l.inputs.join(', ')] : [])]);
  const head = ['Layer', 'Type', 'Output shape', 'Params', 'Activation', ...(edges ? ['Connected to'] : [])];
  const table = renderTable(rows, head, { indent: 2, align: ['left', 'left', 'left', 'right', 'left', 'left'].slice(0, head.length) as never });
  const total = totalParams(r.layers), trainable = trainableParams(r.layers);
  // Keras's split, shown where some weights are not trained (batch normalization's moving statistics).
  const split = trainable === total ? '' : `\n  Trainable params: ${formatInt(trainable)}\n  Non-trainable params: ${formatInt(total - trainable)}`;
  return `  Input shape: ${formatShape(r.spec.input_shape)}\n\n${table}\n\n  Total params: ${formatInt(total)}${split}`;
}

/** Machine-readable results (for editors and the web page). */
function toJson(results: Array<{ file: string; result: ValidationResult }>) {
  return {
    ok: results.every((r) => r.result.ok),
    files: results.map(({ file, result }) =>
      result.ok
        ? {
            file,
            ok: true,
            name: result.spec.name,
            totalParams: totalParams(result.layers),
            trainableParams: trainableParams(result.layers),
            layers: result.layers.map(({ name, type, inputs, outputShape, params, activation }) => ({ name, type, inputs, outputShape, params, activation })),
            errors: [],
            warnings: result.warnings,
          }
        : { file, ok: false, errors: result.errors, warnings: result.warnings },
    ),
  };
}
