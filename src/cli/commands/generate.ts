// `tessera generate <model.yaml> --weights <file> --prompt "…" [--length N] [--temperature T] [--seed N]`:
// text sampled from a character model (dataset format: text), one
// character at a time from the model's prediction at the last position of
// the window (src/runtime/sampling.ts). The vocabulary is the one saved with
// the weights, so the ids mean what they meant in training.

import { loadWeights, readWeightsDataMetadata } from '../../data/weights-node.js';
import { decodeIds, encodeText } from '../../data/text.js';
import { Model } from '../../runtime/model.js';
import { generateIds } from '../../runtime/sampling.js';
import { parseCommandArgs, type Command } from '../command.js';
import { backendFlag, intFlag, modelFile, threadsFlag } from '../flags.js';
import { createModelBackend } from '../model-backend.js';
import { loadModelSpec } from '../model-file.js';
import { UsageError, UserError } from '../user-error.js';

/** What generation needs of a backend besides Backend: the logits buffer after predict (every backend has it). */
interface ReadsBuffers { readBuffer(name: string): Float32Array | Promise<Float32Array> }

export const generateCommand: Command = {
  name: 'generate',
  summary: 'sample text from a character model with saved weights',
  usage: `Usage: tessera generate <model.yaml> --weights <file.safetensors> --prompt TEXT [--length N] [--temperature T] [--seed N] [--backend NAME] [--threads N]

Prints the prompt and the characters the model samples after it, one at a
time from softmax(logits / temperature) at the last position of its window.
The same seed draws the same random numbers on every backend.

Options:
  --weights FILE     weights saved by tessera train --save (required; they hold the vocabulary)
  --prompt TEXT      the text to continue (required; characters of the vocabulary)
  --length N         characters to generate (default 300)
  --temperature T    0 takes the most likely character; higher is more varied (default 0.8)
  --seed N           seed of the draws (default: the model file's seed)
  --backend NAME     auto, webgpu, wasm or js (default: the model file's backend:)
  --threads N        wasm worker threads (default: the model file's threads:, else the available cores)
  -h, --help         show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      weights: { type: 'string' }, prompt: { type: 'string' }, length: { type: 'string' }, temperature: { type: 'string' },
      seed: { type: 'string' }, backend: { type: 'string' }, threads: { type: 'string' },
    });
    const file = modelFile(positionals);
    if (!values.weights) throw new UsageError('--weights <file> is required');
    if (values.prompt === undefined || values.prompt === '') throw new UsageError('--prompt <text> is required');
    const length = intFlag(values, 'length', 0) ?? 300;
    const seedFlag = intFlag(values, 'seed', 0);
    const temperature = values.temperature === undefined ? 0.8 : Number(values.temperature);
    if (!(temperature >= 0)) throw new UsageError(`--temperature takes a number >= 0, got '${values.temperature}'`);

    const weightsFile = String(values.weights);
    const saved = await readWeightsDataMetadata(weightsFile);
    const vocabulary = saved.vocabulary;
    if (!vocabulary) throw new UserError(`${weightsFile}: these weights hold no vocabulary; generate needs a model trained on a text dataset (format: text)`);
    const base = await loadModelSpec(file);
    if (base.dataset.format !== 'text') throw new UserError(`${file}: generate needs a character model (dataset format: text)`);
    const T = base.dataset.sequence_length!;
    const spec = await loadModelSpec(file, { data: { source: weightsFile, inputShape: [T], classes: vocabulary.length, dtype: 'float32', classNames: vocabulary }, quiet: true });
    const plan = Model.plan(spec);
    const { graph } = plan;
    const { params } = await loadWeights(weightsFile, graph);
    const promptText = String(values.prompt);
    const prompt = Array.from(encodeText(promptText, vocabulary, "--prompt"));

    const { backend } = await createModelBackend(plan, backendFlag(values, spec), threadsFlag(values, spec));
    let model: Model | undefined;
    try {
      model = await Model.open(plan, { backend, weights: params });
      const reader = backend as unknown as ReadsBuffers;
      const ids = await generateIds(prompt, { window: T, vocabulary: vocabulary.length, length, temperature, seed: seedFlag ?? spec.seed }, async (window) => {
        await backend.predict(new Uint8Array(window.buffer), 1);
        return (await reader.readBuffer(graph.logits)).subarray(0, T * vocabulary.length);
      });
      process.stdout.write(`${promptText}${decodeIds(ids, vocabulary)}\n`);
      return 0;
    } finally {
      model?.dispose();
    }
  },
};
