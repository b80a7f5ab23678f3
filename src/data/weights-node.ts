// Saving and loading a model's weights as a .safetensors file in Node.
// Saves are atomic: the bytes go to `<path>.tmp-<pid>`, are flushed to disk,
// and the temp file is renamed over the target, so an interrupted save
// leaves either the old file or the new one, never a partial file.

import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Graph } from '../runtime/graph.js';
import { weightTensors } from '../runtime/checkpoint.js';
import { checkWeightsAgainstGraph, decodeSafetensorsFile, encodeSafetensors } from '../runtime/safetensors.js';
import { DataError } from './errors.js';
import { readBytes } from './node.js';
import { decodeDataMetadata, type DataMetadata } from './preprocess.js';

export async function saveWeights(path: string, graph: Graph, params: Float32Array[], metadata: Record<string, string> = {}): Promise<void> {
  if (params.length !== graph.params.length) throw new Error(`saveWeights: ${params.length} tensors for ${graph.params.length} parameters`);
  const bytes = encodeSafetensors(
    graph.params.map((p, i) => ({ name: p.name, shape: p.shape, data: params[i] })),
    { model: graph.name, ...metadata },
  );
  await writeFileAtomic(path, bytes);
}

/** Writes `data` to `path` through `<path>.tmp-<pid>`, flushed, and a rename (checkpoints, weights, history and plot files); a failure is a DataError naming the path. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw new DataError(path, `cannot write ${path}: ${e.code ?? e.message}`);
  }
}

/** The data metadata saved with a weights file (normalisation, class names), read before the model is compiled. */
export async function readWeightsDataMetadata(path: string): Promise<DataMetadata> {
  return decodeDataMetadata(decodeSafetensorsFile(await readBytes(path), path).metadata, path);
}

/** The parameters in graph.params order (of a weights file or a checkpoint), checked against the graph, and the file's metadata. */
export async function loadWeights(path: string, graph: Graph): Promise<{ params: Float32Array[]; metadata: Record<string, string> }> {
  const file = decodeSafetensorsFile(await readBytes(path), path);
  return { params: checkWeightsAgainstGraph(weightTensors(file), graph, path), metadata: file.metadata };
}
