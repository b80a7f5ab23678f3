// `tessera export <model.yaml> --weights <file> [--onnx FILE [--softmax]] [--pytorch DIR]`:
// the model with its trained weights as an ONNX file (ONNX Runtime and
// every other ONNX runtime) and/or a PyTorch module with its state dict.
// src/export does the work; this file reads and writes the files.

import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadWeights, readWeightsDataMetadata } from '../../data/weights-node.js';
import { Model } from '../../runtime/model.js';
import { parseCommandArgs, type Command } from '../command.js';
import { modelFile } from '../flags.js';
import { loadModelWithData } from '../model-file.js';
import { UsageError, UserError } from '../user-error.js';

async function writeOut(path: string, data: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, data);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`cannot write ${path}: ${e.code ?? e.message}`);
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'export a trained model to ONNX and/or PyTorch',
  usage: `Usage: tessera export <model.yaml> --weights <file.safetensors> [--onnx <file.onnx> [--softmax]] [--pytorch <dir>]

Writes the model with its weights for other runtimes. The exported models
take the data as Tessera stores it (pixel values 0..255, or a CSV's values)
with its preprocessing inside (×1/255, or the statistics saved with the
weights), and give the same numbers.

Options:
  --weights FILE   weights saved by tessera train --save, or a checkpoint (required)
  --onnx FILE      an ONNX model (opset 17, dynamic batch): input "input" [batch, ...input_shape],
                   output "logits" [batch, classes]
  --softmax        with --onnx: output "probabilities" instead of logits
  --pytorch DIR    DIR/model.py (a torch.nn.Module), DIR/state_dict.safetensors (PyTorch names
                   and layouts) and DIR/README.md (loading, training on, DDP)
  -h, --help       show this help`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      weights: { type: 'string' },
      onnx: { type: 'string' },
      softmax: { type: 'boolean' },
      pytorch: { type: 'string' },
    });
    const file = modelFile(positionals);
    if (values.weights === undefined || values.weights === '') throw new UsageError('--weights <file> is required');
    if (values.onnx === undefined && values.pytorch === undefined) throw new UsageError('give --onnx <file>, --pytorch <dir>, or both');
    if (values.softmax && values.onnx === undefined) throw new UsageError('--softmax goes with --onnx');

    // As eval does: the data's saved normalisation and class names, and the data's shape when the file leaves input_shape out.
    const weightsFile = String(values.weights);
    const saved = await readWeightsDataMetadata(weightsFile);
    const { spec } = await loadModelWithData(file, { saved });
    const plan = Model.plan(spec);
    const { params } = await loadWeights(weightsFile, plan.graph);
    // Loaded here, not at the top: only this command needs the ONNX messages.
    const { exportSteps, encodeOnnx, UnsupportedLayer, unsupportedLayerError } = await import('../../export/index.js');
    let steps;
    try {
      steps = exportSteps(spec, plan.graph, params, { ...(saved.normalize ? { normalize: saved.normalize } : {}), ...(saved.classNames ? { classNames: saved.classNames } : {}) });
    } catch (e) {
      if (e instanceof UnsupportedLayer) throw unsupportedLayerError(e, await readFile(file, 'utf8'), file);
      throw e;
    }
    const written: string[] = [];
    if (values.onnx !== undefined) {
      const path = String(values.onnx);
      await writeOut(path, encodeOnnx(steps, { softmax: values.softmax === true, producerVersion: packageVersion() }));
      written.push(`${path} (ONNX opset 17, output ${values.softmax ? 'probabilities' : 'logits'})`);
    }
    if (values.pytorch !== undefined) {
      const dir = String(values.pytorch);
      const { pytorchFiles } = await import('../../export/pytorch.js');
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw new UserError(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      for (const [name, data] of Object.entries(pytorchFiles(steps, spec))) await writeOut(join(dir, name), data);
      written.push(`${dir}/ (model.py, state_dict.safetensors, README.md)`);
    }
    process.stdout.write(`exported ${plan.graph.name} with ${weightsFile}:\n${written.map((w) => `  ${w}`).join('\n')}\n`);
    return 0;
  },
};

/** The package version; package.json is three levels up from both src/cli/commands and dist/cli/commands. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
