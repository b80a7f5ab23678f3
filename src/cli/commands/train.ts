// `tessera train <model.yaml>`: trains a model file on MNIST and reports
// the test accuracy, optionally saving the weights. The helpers it shares
// with `eval` and `predict` live in ../flags.ts, ../model-file.ts,
// ../results.ts and ../model-backend.ts; the progress display in
// ../progress.ts.

import { takeExamples } from '../../data/idx.js';
import { readBytes } from '../../data/node.js';
import { splitValidation } from '../../data/split.js';
import { encodeDataMetadata, type DataMetadata } from '../../data/preprocess.js';
import { saveWeights } from '../../data/weights-node.js';
import type { DatasetTensors } from '../../runtime/backend.js';
import { HistoryRecorder } from '../../runtime/history.js';
import { Model } from '../../runtime/model.js';
import { stepsPerEpoch, TrainingDivergedError, TrainingFailedError } from '../../runtime/trainer.js';
import { describePosition, type TrainState } from '../../runtime/train-state.js';
import { interruptCheckpointPath, resumeCommand, writeFileAtomic } from '../checkpoint-files.js';
import { parseCommandArgs, type Command } from '../command.js';
import { backendFlag, intFlag, modelFile, threadsFlag } from '../flags.js';
import { formatDuration, formatInt, isTTY } from '../format.js';
import { writeHistoryFiles, type HistoryFiles } from '../history-files.js';
import { createModelBackend } from '../model-backend.js';
import { loadModelWithData } from '../model-file.js';
import { ProgressPrinter } from '../progress.js';
import { testLine } from '../results.js';
import { UsageError } from '../user-error.js';

export const train: Command = {
  name: 'train',
  summary: 'train a model file on its dataset and report the test accuracy',
  usage: `Usage: tessera train <model.yaml> [--backend auto|webgpu|wasm|js] [--threads N] [--epochs N] [--batch-size N] [--seed N] [--save <weights.safetensors>] [--resume <checkpoint.safetensors>] [--history <run.json>] [--plot <run.svg>] [--limit N] [--quiet]

Trains the model on its training set (a progress bar per epoch on a
terminal, plain lines otherwise), then evaluates it on the test set.
With validation data (training.validation_split, or dataset.validation_images)
every epoch also reports val_loss and val_accuracy; training.callbacks
(early_stopping, reduce_lr_on_plateau, model_checkpoint) act on them.
The flags override the model file's settings for this run.

Options:
  --backend NAME   auto (default: the model file's backend:), webgpu, wasm or js
  --threads N      wasm worker threads (default: the model file's threads:, else
                   the available cores); the same numbers at any count
  --epochs N       passes over the training set (model file: training.epochs)
  --batch-size N   examples per step (model file: training.batch_size)
  --seed N         the seed for initialisation, shuffling and dropout (model file: seed)
  --save FILE      write the trained weights to FILE (safetensors), atomically
  --resume FILE    continue the run a checkpoint (Ctrl-C's, or model_checkpoint's)
                   stopped at: same losses as if it had never stopped. Refused,
                   listing the differences, for another model, optimizer,
                   batch size, seed or training set (--limit)
  --history FILE   write the per-epoch metrics to FILE as JSON (Keras History:
                   loss, accuracy, val_loss, val_accuracy, learning_rate, seconds)
  --plot FILE      write an SVG chart of the training and validation curves
  --limit N        train on the first N training examples only (quick runs)
  --quiet          no header and no progress; epoch summaries and results only
  -h, --help       show this help

Ctrl-C stops after the current chunk of steps, writes a resumable checkpoint
(weights, optimizer state, step, epoch) to the --save file, or else to
<model file name>.interrupted.safetensors here, says how to resume, and exits
with code 130. A NaN or infinite loss stops training
with exit code 1; with --save the last good weights are saved. So does a
backend that fails during training (e.g. a lost WebGPU device).`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      backend: { type: 'string' },
      threads: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      save: { type: 'string' },
      resume: { type: 'string' },
      history: { type: 'string' },
      plot: { type: 'string' },
      limit: { type: 'string' },
      quiet: { type: 'boolean' },
    });
    const file = modelFile(positionals);
    const epochs = intFlag(values, 'epochs', 1);
    const batchSize = intFlag(values, 'batch-size', 1);
    const seed = intFlag(values, 'seed', 0, 4294967295);
    const limit = intFlag(values, 'limit', 1);
    const save = values.save === undefined ? undefined : String(values.save);
    if (save === '') throw new UsageError('--save needs a file name');
    const resumeFile = values.resume === undefined ? undefined : String(values.resume);
    if (resumeFile === '') throw new UsageError('--resume needs a file name');
    const resumeBytes = resumeFile === undefined ? undefined : await readBytes(resumeFile);
    const files: HistoryFiles = {};
    for (const flag of ['history', 'plot'] as const) {
      if (values[flag] === undefined) continue;
      files[flag] = String(values[flag]);
      if (files[flag] === '') throw new UsageError(`--${flag} needs a file name`);
    }
    const quiet = values.quiet === true;

    const { spec, data } = await loadModelWithData(file, seed !== undefined ? { seed } : {});
    if (epochs !== undefined) spec.training.epochs = epochs;
    if (batchSize !== undefined) spec.training.batch_size = batchSize;
    const backendName = backendFlag(values, spec);
    const threads = threadsFlag(values, spec);

    const plan = Model.plan(spec);
    const { graph } = plan;
    const { backend, reason, kernelLines } = await createModelBackend(plan, backendName, threads);
    const out = process.stdout;
    let model: Model | undefined;
    try {
      const all = limit !== undefined ? takeExamples(data.train, limit) : data.train;
      // Keras's validation_split: the last fraction of the (limited) training set, before shuffling.
      const split = spec.training.validation_split ?? 0;
      const { train, validation } = split > 0 ? splitValidation(all, split) : { train: all, validation: data.validation };
      model = await Model.open(plan, { backend });
      // The checkpoint is checked against this run (model, optimizer, batches) before anything is printed.
      const point = resumeBytes ? await model.restoreCheckpoint(resumeBytes, resumeFile!, train.count) : undefined;
      if (!quiet) {
        const of = all.count < data.train.count ? `the first ${formatInt(all.count)} of ${formatInt(data.train.count)}` : formatInt(all.count);
        const kept = split > 0 ? '' : all.count < data.train.count ? ` (the first ${formatInt(all.count)} of ${formatInt(data.train.count)})` : '';
        const validating = !validation ? '' : split > 0
          ? `, ${formatInt(validation.count)} validation (held out: the last ${+(100 * split).toPrecision(4)}% of ${of})`
          : `, ${formatInt(validation.count)} validation (dataset.validation_images)`;
        out.write(
          `${graph.name}: ${formatInt(graph.totalParams)} parameters; ${spec.training.epochs} epoch${spec.training.epochs === 1 ? '' : 's'}, batch ${graph.batchSize}, seed ${spec.seed}\n` +
            `backend: ${reason.startsWith('requested') ? backend.description : reason}\n` +
            kernelLines.map((l) => `kernels: ${l}\n`).join('') +
            `data: ${data.source}\n` +
            `examples: ${formatInt(train.count)} training${kept}${validating}, ${formatInt(data.test.count)} test\n`,
        );
      }
      if (point) {
        const at = describePosition(point.train, stepsPerEpoch(train.count, graph.batchSize));
        out.write(`resuming from ${resumeFile}: ${at}, learning rate ${+point.train.learningRate.toPrecision(6)}${point.learningRateChanged ? ' (the model file\'s new learning_rate)' : ''}\n`);
        if (point.train.epoch >= spec.training.epochs) out.write(`the checkpoint has run all ${spec.training.epochs} epochs already; raise --epochs to train on\n`);
      }
      return await runTraining({ model, file, args, train, test: data.test, validation, dataMetadata: data.metadata ?? {}, save, resume: point?.train, files, quiet, out });
    } finally {
      // Until the model holds the backend, the backend is ours to release.
      (model ?? backend).dispose();
    }
  },
};

interface TrainingRun {
  model: Model;
  /** The model file and the command's arguments (for the resume command printed on Ctrl-C). */
  file: string;
  args: string[];
  resume: TrainState | undefined;
  train: DatasetTensors;
  test: DatasetTensors;
  validation: DatasetTensors | undefined;
  dataMetadata: DataMetadata;
  save: string | undefined;
  files: HistoryFiles;
  quiet: boolean;
  out: NodeJS.WriteStream;
}

async function runTraining(r: TrainingRun): Promise<number> {
  const { model, out } = r;
  const { spec, graph, backend } = model;
  const printer = new ProgressPrinter(out, isTTY(out), r.quiet);
  const recorder = new HistoryRecorder(graph.name);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort();
    printer.clear();
    process.stderr.write('stopping after the current steps and saving a resumable checkpoint… (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);

  const baseMetadata = {
    seed: String(spec.seed),
    batch_size: String(graph.batchSize),
    backend: backend.name,
    train_examples: String(r.train.count),
    ...encodeDataMetadata(r.dataMetadata),
  };
  /** Saves the backend's current parameters to --save. */
  const saveNow = async (metadata: Record<string, string>) => {
    const params = await model.getWeights();
    await saveWeights(r.save!, graph, params, { ...baseMetadata, ...metadata });
  };

  try {
    // Epochs, shuffle and seed come from the spec, which the flags have already overridden.
    const sigintAt = Number(process.env.TESSERA_TEST_SIGINT_AT_STEP ?? NaN); // test hook: a Ctrl-C at a known step
    const onEvent = (e: Parameters<typeof printer.on>[0]) => {
      recorder.on(e);
      printer.on(e);
      if (e.type === 'progress' && e.globalStep >= sigintAt && interrupts === 0) process.kill(process.pid, 'SIGINT');
    };
    // A resumed run's history and output start with the epochs the checkpoint had finished.
    for (const done of r.resume?.history ?? []) onEvent({ type: 'epoch', epochs: spec.training.epochs, ...done });
    const result = await model.fit(r.train, {
      test: r.test, ...(r.validation ? { validation: r.validation } : {}), signal: controller.signal, onEvent,
      ...(r.resume ? { resume: r.resume } : {}), writeFile: writeFileAtomic, checkpointMetadata: baseMetadata,
    });
    printer.clear();
    recorder.finish(result);
    if (result.aborted) {
      const at = result.stoppedAt!;
      out.write(`interrupted in epoch ${at.epoch}/${spec.training.epochs} after step ${at.step}/${at.steps} (${formatDuration(result.seconds * 1000)})\n`);
      const path = interruptCheckpointPath(r.file, r.save);
      const bytes = await model.checkpoint(result.state, { ...baseMetadata, status: 'interrupted', epochs: String(result.epochs.length), steps: String(result.steps) });
      await writeFileAtomic(path, bytes);
      out.write(`saved a resumable checkpoint (weights, optimizer state, step ${result.steps}) to ${path}\n`);
      out.write(`continue with: ${resumeCommand(r.args, path)}\n`);
      return 130;
    }
    const test = result.test!;
    out.write(`${testLine(test, { format: spec.dataset.format, inputShape: spec.input_shape })}\n`);
    out.write(`time ${formatDuration(result.seconds * 1000)} (${result.epochs.length} epoch${result.epochs.length === 1 ? '' : 's'}, ${formatInt(result.steps)} steps, ${backend.name})\n`);
    if (r.save) {
      await saveNow({
        epochs: String(result.epochs.length),
        steps: String(result.steps),
        test_accuracy: test.accuracy.toFixed(6),
        test_loss: test.loss.toFixed(6),
      });
      out.write(`saved weights to ${r.save}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof TrainingFailedError) {
      // The backend failed (e.g. a lost WebGPU device): its parameters are gone; the trainer's last good snapshot is not.
      printer.clear();
      process.stderr.write(`${e.message}\n`);
      if (r.save) {
        const at = e.restoredTo;
        await saveWeights(r.save, graph, e.lastGood, { ...baseMetadata, status: 'failed', restored_to: `epoch ${at.epoch} step ${at.step}`, steps: String(at.globalStep) });
        process.stderr.write(`saved ${at.globalStep === 0 ? 'the initial weights' : `the last good weights (epoch ${at.epoch}, step ${at.step})`} to ${r.save}\n`);
      }
      return 1;
    }
    if (!(e instanceof TrainingDivergedError)) throw e;
    printer.clear();
    process.stderr.write(`${e.message}\n`);
    if (r.save) {
      await saveNow({ status: 'diverged', restored_to: `epoch ${e.restoredTo.epoch} step ${e.restoredTo.step}`, steps: String(e.restoredTo.globalStep) });
      const where = e.restoredTo.globalStep === 0 ? 'the initial weights' : `the last good weights (epoch ${e.restoredTo.epoch}, step ${e.restoredTo.step})`;
      process.stderr.write(`saved ${where} to ${r.save}\n`);
    }
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    // However the run ended, the epochs it finished go to --history and --plot.
    for (const line of await writeHistoryFiles(recorder, r.files)) out.write(`${line}\n`);
  }
}
