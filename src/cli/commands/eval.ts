// `tessera eval <model.yaml> --weights <file>`: test loss and accuracy of
// saved weights, printed in the same form as `tessera train` prints them.

import { loadWeights, readWeightsDataMetadata } from '../../data/weights-node.js';
import { Model } from '../../runtime/model.js';
import { parseCommandArgs, type Command } from '../command.js';
import { backendFlag, intFlag, modelFile, threadsFlag } from '../flags.js';
import { formatDuration } from '../format.js';
import { createModelBackend } from '../model-backend.js';
import { loadModelWithData } from '../model-file.js';
import { testLine } from '../results.js';
import { UsageError } from '../user-error.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: 'report test loss and accuracy of saved weights',
  usage: `Usage: tessera eval <model.yaml> --weights <file.safetensors> [--backend auto|webgpu|wasm|js] [--threads N] [--batch-size N]

Loads the weights (checked against the model: names, shapes, dtypes) and
evaluates them on the model's test set, dropout off.

Options:
  --weights FILE   weights saved by tessera train --save, or a checkpoint (required)
  --backend NAME   auto, webgpu, wasm or js (default: the model file's backend:)
  --threads N      wasm worker threads (default: the model file's threads:, else
                   the available cores); the same numbers at any count
  --batch-size N   examples per evaluation batch (model file: training.batch_size)
  -h, --help       show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      weights: { type: 'string' },
      backend: { type: 'string' },
      threads: { type: 'string' },
      'batch-size': { type: 'string' },
    });
    const file = modelFile(positionals);
    if (values.weights === undefined || values.weights === '') throw new UsageError('--weights <file> is required');
    const weightsFile = String(values.weights);
    const batchSize = intFlag(values, 'batch-size', 1);

    // The normalisation and class names saved with the weights, so the test set is seen as training saw it.
    const saved = await readWeightsDataMetadata(weightsFile);
    const { spec, data } = await loadModelWithData(file, { saved });
    if (batchSize !== undefined) spec.training.batch_size = batchSize;
    const backendName = backendFlag(values, spec);
    const threads = threadsFlag(values, spec);
    const plan = Model.plan(spec);
    // The weights are checked against the graph before any backend starts.
    const { params } = await loadWeights(weightsFile, plan.graph);
    const { backend } = await createModelBackend(plan, backendName, threads);
    let model: Model | undefined;
    try {
      const t0 = performance.now();
      model = await Model.open(plan, { backend, weights: params });
      const result = await model.evaluate(data.test);
      process.stdout.write(`${testLine(result, { format: spec.dataset.format, inputShape: data.facts.inputShape })}\n`);
      process.stdout.write(`time ${formatDuration(performance.now() - t0)} (${backend.name})\n`);
      return 0;
    } finally {
      (model ?? backend).dispose();
    }
  },
};
