// What `tessera predict` runs the model on, as the bytes its backend
// gathers (uint8 pixels or float32 values): test-set examples by index, IDX
// files, PNG/JPEG files resized to the model's input shape, or CSV rows
// normalised with the statistics saved with the weights.

import { readFile } from 'node:fs/promises';
import type { ModelSpec } from '../config/types.js';
import { csvExamples, parseCsv, type CsvOptions } from '../data/csv.js';
import { DataError } from '../data/errors.js';
import { imageInput } from '../data/images.js';
import { readBytes, readIdxFile } from '../data/node.js';
import { applyNormalize, type DataMetadata } from '../data/preprocess.js';
import { bytesPerFeature, type DatasetTensors } from '../data/types.js';
import type { Graph } from '../runtime/graph.js';
import { formatInt } from './format.js';
import { UserError } from './user-error.js';

export interface Selection {
  /** What each example is called in the output: its index in the test set or its file (and row). */
  ids: Array<number | string>;
  images: Uint8Array;
  labels: (number | null)[];
  source: string;
}

const isImageFile = (b: Uint8Array) => (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) || (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff);

/** Examples of the test set by index. */
export function fromIndex(test: DatasetTensors, chosen: number[], graph: Graph): Selection {
  const bad = chosen.find((i) => i >= test.count);
  if (bad !== undefined) throw new UserError(`--index ${bad} is out of range: the test set has ${formatInt(test.count)} examples (0–${test.count - 1})`);
  const row = graph.inputFeatures * bytesPerFeature(graph.inputDtype);
  const images = new Uint8Array(chosen.length * row);
  chosen.forEach((i, j) => images.set(test.images.subarray(i * row, (i + 1) * row), j * row));
  return { ids: chosen, images, labels: chosen.map((i) => test.labels[i]!), source: 'test set' };
}

/** PNG/JPEG files (one example each, resized to the input's height and width) or one IDX file of examples. */
export async function fromImages(paths: string[], graph: Graph, count: number | undefined, labelsPath: string | undefined): Promise<Selection> {
  const F = graph.inputFeatures;
  const first = await readBytes(paths[0]!);
  if (!isImageFile(first)) {
    if (paths.length > 1) throw new UserError(`--images: ${paths[0]} is not a PNG or JPEG file; give one IDX file, or PNG/JPEG files`);
    return fromIdx(paths[0]!, graph, count, labelsPath);
  }
  if (labelsPath !== undefined) throw new UserError('--labels goes with an IDX --images file');
  if (graph.inputDtype !== 'uint8') throw new UserError(`model '${graph.name}' takes float32 features, not image pixels`);
  const shape = graph.inputShape;
  const channels = shape.length === 3 ? shape[2]! : 1;
  if (!(shape.length === 2 || (shape.length === 3 && (channels === 1 || channels === 3)))) {
    throw new UserError(`model '${graph.name}' takes input_shape [${shape.join(', ')}], not an image ([height, width] or [height, width, 1 or 3])`);
  }
  const take = paths.slice(0, count ?? paths.length);
  const images = new Uint8Array(take.length * F);
  for (let i = 0; i < take.length; i++) {
    const bytes = i === 0 ? first : await readBytes(take[i]!);
    images.set(imageInput(bytes, take[i]!, [shape[0]!, shape[1]!], channels === 3 ? 'rgb' : 'grayscale'), i * F);
  }
  return { ids: take, images, labels: take.map(() => null), source: take.length === 1 ? take[0]! : `${take.length} image files` };
}

async function fromIdx(path: string, graph: Graph, count: number | undefined, labelsPath: string | undefined): Promise<Selection> {
  const F = graph.inputFeatures;
  const idx = await readIdxFile(path);
  const [n = 0, ...rest] = idx.dims;
  const per = rest.reduce((a, b) => a * b, 1);
  if (idx.dims.length < 2 || per !== F || graph.inputDtype !== 'uint8') {
    throw new UserError(`${path}: images are [${idx.dims.join('×')}]; model '${graph.name}' needs count×${graph.inputShape.join('×')} (${F} ${graph.inputDtype} features each)`);
  }
  const take = Math.min(n, count ?? n);
  let labels: (number | null)[] = new Array(take).fill(null);
  if (labelsPath !== undefined) {
    const l = await readIdxFile(labelsPath);
    if (l.dims.length !== 1 || l.dims[0] !== n) throw new UserError(`${labelsPath}: ${l.dims.length === 1 ? formatInt(l.dims[0]!) : `[${l.dims.join('×')}]`} labels for ${formatInt(n)} images in ${path}`);
    labels = Array.from(l.data.subarray(0, take));
  }
  return { ids: Array.from({ length: take }, (_, i) => i), images: idx.data.subarray(0, take * F), labels, source: path };
}

/**
 * CSV rows with the model's dataset settings (delimiter, header, feature
 * columns): the label column is used for the true labels when the file
 * has it, and the features are normalised with the saved statistics.
 */
export async function fromCsv(path: string, spec: ModelSpec, graph: Graph, saved: DataMetadata, count: number | undefined): Promise<Selection> {
  const ds = spec.dataset;
  if (ds.format !== 'csv') throw new UserError(`--csv needs a model whose dataset is format: csv (this one is ${ds.format ?? 'idx'})`);
  await readBytes(path);
  const o: CsvOptions = { header: ds.header ?? true, delimiter: ds.delimiter ?? ',', task: ds.task ?? 'classification', ...(ds.features ? { features: ds.features } : {}) };
  const table = parseCsv(await readFile(path, 'utf8'), path, o);
  // Rows with a label column: as in training. Rows of features only: every column is a feature (or the named ones).
  const width = ds.features ? ds.features.length : graph.inputFeatures;
  const labelled = table.columns.length > width || (ds.header !== false && typeof ds.label === 'string' && table.columns.includes(ds.label));
  const examples = labelled
    ? csvExamples(table, { ...o, ...(ds.label !== undefined ? { label: ds.label } : {}), task: 'classification' }, saved.classNames)
    : csvExamples({ ...table, columns: [...table.columns, '(none)'], rows: table.rows.map((r) => [...r, '0']) }, { ...o, label: table.columns.length });
  if (examples.data.features !== graph.inputFeatures) throw new DataError(path, `${path}: ${examples.data.features} feature columns; model '${graph.name}' takes ${graph.inputFeatures}`);
  let data = examples.data;
  if (saved.normalize) data = applyNormalize(data, saved.normalize, path);
  const take = Math.min(data.count, count ?? data.count);
  return {
    ids: table.lines.slice(0, take).map((l) => `row ${l}`),
    images: data.images.subarray(0, take * graph.inputFeatures * 4),
    labels: Array.from({ length: take }, (_, i) => (labelled && ds.task !== 'regression' ? data.labels[i]! : null)),
    source: path,
  };
}
