// `tessera predict <model.yaml> --weights <file> (--index 0,1,2 | --images <files> | --csv <file>)`:
// the predicted class (with its name, when the weights or the dataset
// have class names) and the class probabilities of some examples. What the
// inputs are is read in ../predict-inputs.ts.

import { loadWeights, readWeightsDataMetadata } from '../../data/weights-node.js';
import { Model } from '../../runtime/model.js';
import { parseCommandArgs, type Command } from '../command.js';
import { backendFlag, intFlag, modelFile, threadsFlag } from '../flags.js';
import { formatInt, renderTable } from '../format.js';
import { createModelBackend } from '../model-backend.js';
import { loadModelWithData } from '../model-file.js';
import { fromCsv, fromImages, fromIndex, type Selection } from '../predict-inputs.js';
import { UsageError } from '../user-error.js';

/** "0,1,5-9" -> [0, 1, 5, 6, 7, 8, 9]. */
function parseIndices(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new UsageError(`--index takes indices and ranges like 0,1,5-9; got '${text}'`);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`--index range '${part}' runs backwards`);
    if (b - a >= 1_000_000) throw new UsageError(`--index range '${part}' is too long`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'predict the classes of test-set examples, IDX/PNG/JPEG images or CSV rows with saved weights',
  usage: `Usage: tessera predict <model.yaml> --weights <file.safetensors> (--index 0,1,2 | --images <file.idx|a.png,b.jpg> | --csv <rows.csv>) [--labels <file.idx>] [--count N] [--json] [--backend NAME] [--threads N]

Prints, per example, the predicted class (and its name, when the weights
or the dataset name the classes), the true label when known, and the
probability of every class.

Options:
  --weights FILE   weights saved by tessera train --save, or a checkpoint (required)
  --index LIST     images of the model's test set by index: 0,1,2 or 0-9
  --images FILES   images from an IDX file (plain or gzip; count × the input
                   shape, bytes), or PNG/JPEG files (comma-separated),
                   each resized to the model's input_shape
  --csv FILE       rows of a CSV file with the model's dataset columns
                   (the label column is optional), normalised with the
                   statistics saved with the weights
  --labels FILE    the labels of --images (an IDX label file), to show beside the predictions
  --count N        only the first N of the selected images (with --images: default all)
  --json           print JSON instead of a table
  --backend NAME   auto, webgpu, wasm or js (default: the model file's backend:)
  --threads N      wasm worker threads (default: the model file's threads:, else
                   the available cores); the same numbers at any count
  -h, --help       show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      weights: { type: 'string' },
      index: { type: 'string' },
      images: { type: 'string' },
      csv: { type: 'string' },
      labels: { type: 'string' },
      count: { type: 'string' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    });
    const file = modelFile(positionals);
    if (values.weights === undefined || values.weights === '') throw new UsageError('--weights <file> is required');
    if ([values.index, values.images, values.csv].filter((v) => v !== undefined).length !== 1) throw new UsageError('give one of --index, --images or --csv');
    if (values.labels !== undefined && values.images === undefined) throw new UsageError('--labels goes with --images');
    const count = intFlag(values, 'count', 1);
    const indices = values.index !== undefined ? parseIndices(String(values.index)) : null;

    const weightsFile = String(values.weights);
    // The class names and normalisation saved with the weights: the inputs are seen as training saw them.
    const saved = await readWeightsDataMetadata(weightsFile);
    const { spec, data } = await loadModelWithData(file, { saved });
    const backendName = backendFlag(values, spec);
    const threads = threadsFlag(values, spec);
    const plan = Model.plan(spec);
    const { graph } = plan;
    const { params } = await loadWeights(weightsFile, graph);
    const classNames = saved.classNames ?? data.facts.classNames;
    let sel: Selection;
    if (indices) sel = fromIndex(data.test, count !== undefined ? indices.slice(0, count) : indices, graph);
    else if (values.images !== undefined) sel = await fromImages(String(values.images).split(','), graph, count, values.labels === undefined ? undefined : String(values.labels));
    else sel = await fromCsv(String(values.csv), spec, graph, saved, count);

    const { backend } = await createModelBackend(plan, backendName, threads);
    let model: Model | undefined;
    try {
      model = await Model.open(plan, { backend, weights: params });
      const p = await model.classify(sel.images, sel.ids.length);
      const C = p.numClasses;
      const probs = (i: number) => Array.from(p.probabilities.subarray(i * C, (i + 1) * C));
      if (values.json) {
        const predictions = sel.ids.map((id, i) => ({
          index: id,
          predicted: p.classes[i],
          ...(classNames ? { class: classNames[p.classes[i]!] } : {}),
          ...(sel.labels[i] !== null ? { label: sel.labels[i] } : {}),
          probabilities: probs(i),
        }));
        process.stdout.write(`${JSON.stringify({ model: graph.name, weights: weightsFile, source: sel.source, predictions }, null, 2)}\n`);
        return 0;
      }
      const hasLabels = sel.labels.some((l) => l !== null);
      const named = (c: number) => (classNames?.[c] !== undefined ? `${c} ${classNames[c]}` : String(c));
      const header = [values.csv !== undefined ? 'row' : 'image', 'predicted', ...(hasLabels ? ['label'] : []), ...Array.from({ length: C }, (_, c) => `p(${c})`)];
      const rows = sel.ids.map((id, i) => [
        String(id),
        named(p.classes[i]!),
        ...(hasLabels ? [sel.labels[i] === null ? '?' : `${named(sel.labels[i]!)}${sel.labels[i] === p.classes[i] ? '' : ' ✗'}`] : []),
        ...probs(i).map((v) => v.toFixed(4)),
      ]);
      const align = header.map(() => 'right' as const);
      process.stdout.write(`${renderTable(rows, header, { align })}\n`);
      if (hasLabels) {
        const known = sel.labels.filter((l) => l !== null).length;
        const right = sel.labels.filter((l, i) => l !== null && l === p.classes[i]).length;
        process.stdout.write(`\n${formatInt(right)} of ${formatInt(known)} correct\n`);
      }
      return 0;
    } finally {
      (model ?? backend).dispose();
    }
  },
};
