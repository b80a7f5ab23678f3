// `tessera train <model.yaml>`: trains a model file on MNIST and reports
// the test accuracy, optionally saving the weights. Also the home of the
// helpers that `eval` and `predict` share with it (loading a model file,
// its data and a backend, and parsing the common flags).

import { dirname } from 'node:path';
import { countErrors, formatConfigErrors } from '../../config/errors.js';
import { validateModelFile } from '../../config/load-file.js';
import type { ModelSpec } from '../../config/types.js';
import { takeExamples } from '../../data/idx.js';
import { loadMnist } from '../../data/node.js';
import { saveWeights } from '../../data/weights-node.js';
import type { Backend, DatasetTensors, EvalResult } from '../../runtime/backend.js';
import { compileGraph, type Graph } from '../../runtime/graph.js';
import { initParams } from '../../runtime/params.js';
import { isBackendRequest, type BackendRequest } from '../../runtime/select.js';
import { fit, TrainingDivergedError, type TrainEvent } from '../../runtime/trainer.js';
import { parseCommandArgs, type Command, type ParsedCommandArgs } from '../command.js';
import { createModelBackend } from '../model-backend.js';
import { formatDuration, formatInt, isTTY, useColor } from '../format.js';
import { UsageError, UserError } from '../user-error.js';

// ---------------------------------------------------------------------------
// Shared by train, eval and predict.

/**
 * Reads and validates a model file. Invalid: a UserError whose message is
 * every diagnostic with its line and caret, as `tessera validate` prints
 * them. Warnings of a valid file go to stderr.
 */
export async function loadModelSpec(file: string): Promise<ModelSpec> {
  const result = await validateModelFile(file);
  const color = useColor(process.stderr);
  if (!result.ok) {
    const text = formatConfigErrors([...result.errors, ...result.warnings], { color });
    const lone = result.errors.length === 1 && result.errors[0]!.line === 0;
    throw new UserError(lone ? text : `${text}\n\n${countErrors(result.errors.length)} in ${file}`);
  }
  if (result.warnings.length > 0) process.stderr.write(`${formatConfigErrors(result.warnings, { color })}\n\n`);
  return result.spec;
}

/** The MNIST train and test sets of a model file (paths in the spec are already absolute). */
export function loadModelData(spec: ModelSpec, file: string): Promise<{ train: DatasetTensors; test: DatasetTensors; source: string }> {
  return loadMnist(spec.dataset, dirname(file));
}

/** An integer flag value, or undefined when the flag is absent. */
export function intFlag(values: ParsedCommandArgs['values'], name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? (min === 1 ? 'a positive integer' : `an integer >= ${min}`) : `an integer from ${min} to ${max}`;
    throw new UsageError(`--${name} must be ${range}, got '${text}'`);
  }
  return n;
}

/** --backend, else the model file's `backend:`. */
export function backendFlag(values: ParsedCommandArgs['values'], spec: ModelSpec): BackendRequest {
  const raw = values.backend === undefined ? spec.backend : String(values.backend);
  if (!isBackendRequest(raw)) throw new UsageError(`--backend must be one of auto, webgpu, wasm, js; got '${raw}'`);
  return raw;
}

/** A single model-file positional. */
export function modelFile(positionals: string[]): string {
  if (positionals.length === 0) throw new UsageError('no model file given');
  if (positionals.length > 1) throw new UsageError(`one model file expected, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0]!;
}

export const pct = (x: number, digits: number) => `${(100 * x).toFixed(digits)}%`;

/** The line train and eval both print, so their accuracies can be compared as text. */
export function testLine(r: EvalResult): string {
  return `test  loss ${r.loss.toFixed(4)}  accuracy ${pct(r.accuracy, 2)}  (${formatInt(r.samples)} images)`;
}


// ---------------------------------------------------------------------------


function etaText(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  return seconds < 60 ? `${Math.ceil(seconds)}s` : formatDuration(seconds * 1000);
}

function bar(step: number, steps: number, width: number): string {
  const filled = Math.floor((width * step) / steps);
  if (filled >= width) return `[${'='.repeat(width)}]`;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
}

/**
 * Prints training events. On a terminal, a progress bar redrawn in place
 * (at most 10 times a second); otherwise a plain line every ~10% of an
 * epoch. Always a summary line per epoch.
 */
class ProgressPrinter {
  private lastDraw = 0;
  private nextTenth = 1;
  private barShown = false;

  constructor(private readonly out: NodeJS.WriteStream, private readonly tty: boolean, private readonly quiet: boolean) {}

  /** Clears a progress bar so that other text can be printed. */
  clear(): void {
    if (this.barShown) this.out.write('\r\x1b[K');
    this.barShown = false;
  }

  on(e: TrainEvent): void {
    switch (e.type) {
      case 'epoch-start':
        this.nextTenth = 1;
        this.lastDraw = 0;
        return;
      case 'progress': {
        if (this.quiet || e.step >= e.steps) return;
        const stats = `loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy, 1)}  ${formatInt(Math.round(e.samplesPerSec))} samples/s  ETA ${etaText(e.etaSeconds)}`;
        const count = `${String(e.step).padStart(String(e.steps).length)}/${e.steps}`;
        if (this.tty) {
          const t = performance.now();
          if (t - this.lastDraw < 100) return;
          this.lastDraw = t;
          // The bar takes what the terminal leaves (10–30 columns); the line never wraps.
          const columns = this.out.columns > 0 ? this.out.columns - 1 : 119;
          const head = `epoch ${e.epoch}/${e.epochs} `;
          const tail = ` ${count}  ${stats}`;
          const width = Math.max(10, Math.min(30, columns - head.length - tail.length - 2));
          this.out.write(`\r${(head + bar(e.step, e.steps, width) + tail).slice(0, columns)}\x1b[K`);
          this.barShown = true;
        } else if (e.step >= Math.ceil((e.steps * this.nextTenth) / 10)) {
          while (this.nextTenth < 10 && e.step >= Math.ceil((e.steps * this.nextTenth) / 10)) this.nextTenth++;
          this.out.write(`epoch ${e.epoch}/${e.epochs}  ${count}  ${stats}\n`);
        }
        return;
      }
      case 'epoch':
        this.clear();
        this.out.write(`epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  acc ${pct(e.accuracy, 1)}  ${e.seconds.toFixed(1)} s\n`);
        return;
      default:
        return;
    }
  }
}

export const train: Command = {
  name: 'train',
  summary: 'train a model file on its dataset and report the test accuracy',
  usage: `Usage: tessera train <model.yaml> [--backend auto|webgpu|wasm|js] [--epochs N] [--batch-size N] [--seed N] [--save <weights.safetensors>] [--limit N] [--quiet]

Trains the model on its training set (a progress bar per epoch on a
terminal, plain lines otherwise), then evaluates it on the test set.
The flags override the model file's settings for this run.

Options:
  --backend NAME   auto (default: the model file's backend:), webgpu, wasm or js
  --epochs N       passes over the training set (model file: training.epochs)
  --batch-size N   examples per step (model file: training.batch_size)
  --seed N         the seed for initialisation, shuffling and dropout (model file: seed)
  --save FILE      write the trained weights to FILE (safetensors), atomically
  --limit N        train on the first N training examples only (quick runs)
  --quiet          no header and no progress; epoch summaries and results only
  -h, --help       show this help

Ctrl-C stops after the current chunk of steps, saves the weights if --save
was given, and exits with code 130. A NaN or infinite loss stops training
with exit code 1; with --save the last good weights are saved.`,

  async run(args) {
    const { values, positionals } = parseCommandArgs(args, {
      backend: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      save: { type: 'string' },
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
    const quiet = values.quiet === true;

    const spec = await loadModelSpec(file);
    if (epochs !== undefined) spec.training.epochs = epochs;
    if (batchSize !== undefined) spec.training.batch_size = batchSize;
    if (seed !== undefined) spec.seed = seed;
    const backendName = backendFlag(values, spec);

    const graph = compileGraph(spec);
    const { backend, reason, kernelLines } = await createModelBackend(spec, graph, backendName);
    const out = process.stdout;
    try {
      const data = await loadModelData(spec, file);
      const train = limit !== undefined ? takeExamples(data.train, limit) : data.train;
      await backend.prepare(graph, initParams(graph));
      if (!quiet) {
        const limited = train.count < data.train.count ? ` (the first ${formatInt(train.count)} of ${formatInt(data.train.count)})` : '';
        out.write(
          `${graph.name}: ${formatInt(graph.totalParams)} parameters; ${spec.training.epochs} epoch${spec.training.epochs === 1 ? '' : 's'}, batch ${graph.batchSize}, seed ${spec.seed}\n` +
            `backend: ${reason.startsWith('requested') ? backend.description : reason}\n` +
            kernelLines.map((l) => `kernels: ${l}\n`).join('') +
            `data: ${data.source}\n` +
            `examples: ${formatInt(train.count)} training${limited}, ${formatInt(data.test.count)} test\n`,
        );
      }
      return await runTraining({ spec, graph, backend, train, test: data.test, save, quiet, out });
    } finally {
      backend.dispose();
    }
  },
};

interface TrainingRun {
  spec: ModelSpec;
  graph: Graph;
  backend: Backend;
  train: DatasetTensors;
  test: DatasetTensors;
  save: string | undefined;
  quiet: boolean;
  out: NodeJS.WriteStream;
}

async function runTraining(r: TrainingRun): Promise<number> {
  const { spec, graph, backend, out } = r;
  const printer = new ProgressPrinter(out, isTTY(out), r.quiet);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort();
    printer.clear();
    process.stderr.write(`stopping after the current steps${r.save ? ' and saving' : ''}… (Ctrl-C again to quit at once)\n`);
  };
  process.on('SIGINT', onSigint);

  const baseMetadata = {
    seed: String(spec.seed),
    batch_size: String(graph.batchSize),
    backend: backend.name,
    train_examples: String(r.train.count),
  };
  /** Saves the backend's current parameters to --save. */
  const saveNow = async (metadata: Record<string, string>) => {
    const params = await backend.readParams();
    await saveWeights(r.save!, graph, params, { ...baseMetadata, ...metadata });
  };

  try {
    const result = await fit(backend, graph, { train: r.train, test: r.test }, {
      epochs: spec.training.epochs,
      shuffle: spec.training.shuffle,
      seed: spec.seed,
      signal: controller.signal,
      onEvent: (e) => printer.on(e),
    });
    printer.clear();
    if (result.aborted) {
      const at = result.stoppedAt!;
      out.write(`interrupted in epoch ${at.epoch}/${spec.training.epochs} after step ${at.step}/${at.steps} (${formatDuration(result.seconds * 1000)})\n`);
      if (r.save) {
        await saveNow({ status: 'interrupted', epochs: String(result.epochs.length), steps: String(result.steps) });
        out.write(`saved the weights at that point to ${r.save}\n`);
      }
      return 130;
    }
    const test = result.test!;
    out.write(`${testLine(test)}\n`);
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
  }
}
