// `tessera predict <model.yaml> --weights <file> (--index 0,1,2 | --images <idx>)`:
// the predicted class and the class probabilities of some images.

import { readIdxFile } from '../../data/node.js';
import { loadWeights } from '../../data/weights-node.js';
import { Model } from '../../runtime/model.js';
import { parseCommandArgs, type Command } from '../command.js';
import { backendFlag, intFlag, modelFile, threadsFlag } from '../flags.js';
import { formatInt, renderTable } from '../format.js';
import { createModelBackend } from '../model-backend.js';
import { loadModelWithData } from '../model-file.js';
import { UsageError, UserError } from '../user-error.js';

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

interface Selection {
  /** What each image is called in the output: its index in the test set or in the file. */
  ids: number[];
  images: Uint8Array;
  labels: (number | null)[];
  source: string;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'predict the classes of test-set or IDX-file images with saved weights',
  usage: `Usage: tessera predict <model.yaml> --weights <file.safetensors> (--index 0,1,2 | --images <file.idx>) [--labels <file.idx>] [--count N] [--json] [--backend NAME] [--threads N]

Prints, per image, the predicted class, the true label when known, and the
probability of every class.

Options:
  --weights FILE   weights saved by tessera train --save, or a checkpoint (required)
  --index LIST     images of the model's test set by index: 0,1,2 or 0-9
  --images FILE    images from an IDX file (plain or gzip; count×28×28 bytes)
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
      labels: { type: 'string' },
      count: { type: 'string' },
      json: { type: 'boolean' },
      backend: { type: 'string' },
      threads: { type: 'string' },
    });
    const file = modelFile(positionals);
    if (values.weights === undefined || values.weights === '') throw new UsageError('--weights <file> is required');
    if ((values.index === undefined) === (values.images === undefined)) throw new UsageError('give either --index or --images');
    if (values.labels !== undefined && values.images === undefined) throw new UsageError('--labels goes with --images');
    const count = intFlag(values, 'count', 1);
    const indices = values.index !== undefined ? parseIndices(String(values.index)) : null;

    const { spec, data } = await loadModelWithData(file);
    const backendName = backendFlag(values, spec);
    const threads = threadsFlag(values, spec);
    const plan = Model.plan(spec);
    const { graph } = plan;
    const weightsFile = String(values.weights);
    const { params } = await loadWeights(weightsFile, graph);
    const F = graph.inputFeatures;

    let sel: Selection;
    if (indices) {
      const { test } = data;
      const chosen = count !== undefined ? indices.slice(0, count) : indices;
      const bad = chosen.find((i) => i >= test.count);
      if (bad !== undefined) throw new UserError(`--index ${bad} is out of range: the test set has ${formatInt(test.count)} images (0–${test.count - 1})`);
      const images = new Uint8Array(chosen.length * F);
      chosen.forEach((i, j) => images.set(test.images.subarray(i * F, (i + 1) * F), j * F));
      sel = { ids: chosen, images, labels: chosen.map((i) => test.labels[i]!), source: 'test set' };
    } else {
      const path = String(values.images);
      const idx = await readIdxFile(path);
      const [n = 0, ...rest] = idx.dims;
      const per = rest.reduce((a, b) => a * b, 1);
      if (idx.dims.length < 2 || per !== F) {
        throw new UserError(`${path}: images are [${idx.dims.join('×')}]; model '${graph.name}' needs count×${graph.inputShape.join('×')} (${F} pixels each)`);
      }
      const take = Math.min(n, count ?? n);
      let labels: (number | null)[] = new Array(take).fill(null);
      if (values.labels !== undefined) {
        const lpath = String(values.labels);
        const l = await readIdxFile(lpath);
        if (l.dims.length !== 1 || l.dims[0] !== n) throw new UserError(`${lpath}: ${l.dims.length === 1 ? formatInt(l.dims[0]!) : `[${l.dims.join('×')}]`} labels for ${formatInt(n)} images in ${path}`);
        labels = Array.from(l.data.subarray(0, take));
      }
      sel = { ids: Array.from({ length: take }, (_, i) => i), images: idx.data.subarray(0, take * F), labels, source: path };
    }

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
          ...(sel.labels[i] !== null ? { label: sel.labels[i] } : {}),
          probabilities: probs(i),
        }));
        process.stdout.write(`${JSON.stringify({ model: graph.name, weights: weightsFile, source: sel.source, predictions }, null, 2)}\n`);
        return 0;
      }
      const hasLabels = sel.labels.some((l) => l !== null);
      const header = ['image', 'predicted', ...(hasLabels ? ['label'] : []), ...Array.from({ length: C }, (_, c) => `p(${c})`)];
      const rows = sel.ids.map((id, i) => [
        String(id),
        String(p.classes[i]),
        ...(hasLabels ? [sel.labels[i] === null ? '?' : `${sel.labels[i]}${sel.labels[i] === p.classes[i] ? '' : ' ✗'}`] : []),
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
