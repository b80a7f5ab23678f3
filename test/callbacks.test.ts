// Keras's callback rules on synthetic logs (EarlyStopping, ReduceLROnPlateau),
// and the config errors of training.callbacks, validation_split and the
// validation files, each at its line:column.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateModelConfig, type ConfigError } from '../src/config/index.js';
import type { EarlyStoppingSpec, ReduceLrOnPlateauSpec } from '../src/config/types.js';
import { EarlyStopping, ModelCheckpoint, ReduceLrOnPlateau, type Callback, type TrainControl } from '../src/runtime/callbacks/index.js';
import type { ModelCheckpointSpec } from '../src/config/types.js';
import { formatFilepath } from '../src/config/checkpoint-filepath.js';
import { initialTrainState } from '../src/runtime/train-state.js';

/** Runs a callback over the monitored values; returns after which epoch (1-based) it stopped, the rates and the notes. */
async function drive(cb: Callback, monitor: string, values: number[], lr = 0.01) {
  let stopped = 0;
  const notes: string[] = [];
  const rates: number[] = [];
  let epoch = 0;
  const control: TrainControl = {
    epochs: values.length,
    stop: () => { stopped ||= epoch + 1; },
    readParams: async () => [new Float32Array([epoch])],
    writeParams: async (p) => { notes.push(`restored ${p[0]![0]! + 1}`); },
    learningRate: lr,
    note: (m) => notes.push(m),
    state: () => ({ ...initialTrainState(lr, 0), epoch, callbacks: [cb.getState?.() ?? null] }),
  };
  cb.onTrainBegin?.(control);
  for (; epoch < values.length && !stopped; epoch++) {
    rates.push(control.learningRate);
    const logs = { loss: 0, accuracy: 0, learning_rate: control.learningRate, [monitor]: values[epoch] };
    await cb.onEpochEnd(epoch, logs, control);
    await cb.afterEpoch?.(epoch, logs, control);
  }
  await cb.onTrainEnd?.(control);
  return { stopped, notes, rates };
}

const es = (o: Partial<EarlyStoppingSpec> = {}): EarlyStopping =>
  new EarlyStopping({ type: 'early_stopping', monitor: 'val_loss', min_delta: 0, patience: 0, mode: 'auto', restore_best_weights: false, start_from_epoch: 0, ...o });
const rlr = (o: Partial<ReduceLrOnPlateauSpec> = {}): ReduceLrOnPlateau =>
  new ReduceLrOnPlateau({ type: 'reduce_lr_on_plateau', monitor: 'val_loss', factor: 0.5, patience: 2, mode: 'auto', min_delta: 1e-4, cooldown: 0, min_lr: 0, ...o });

test('early_stopping: patience counts epochs without improvement; never stops after the first epoch', async () => {
  assert.is((await drive(es({ patience: 2 }), 'val_loss', [1, 0.9, 0.95, 0.96, 0.5])).stopped, 4);
  assert.is((await drive(es({ patience: 0 }), 'val_loss', [1, 1.1, 1.2])).stopped, 2);
  assert.is((await drive(es({ patience: 5 }), 'val_loss', [1, 0.9, 0.8])).stopped, 0);
  // min_delta: 0.95 → 0.9 is not an improvement of more than 0.1.
  assert.is((await drive(es({ patience: 1, min_delta: 0.1 }), 'val_loss', [1, 0.95, 0.9, 0.85])).stopped, 2);
  // auto mode: higher is better for accuracies.
  assert.is((await drive(es({ monitor: 'val_accuracy', patience: 1 }), 'val_accuracy', [0.5, 0.6, 0.7, 0.65, 0.64])).stopped, 4);
  assert.is((await drive(es({ monitor: 'val_loss', mode: 'max', patience: 0 }), 'val_loss', [1, 0.9])).stopped, 2);
});

test('early_stopping: baseline keeps the count running until beaten; start_from_epoch skips the warm-up', async () => {
  // Improvements that do not beat the baseline 0.8 leave the count running; a non-improvement then stops.
  assert.is((await drive(es({ patience: 2, baseline: 0.8 }), 'val_loss', [1, 0.9, 0.85, 0.86])).stopped, 4);
  assert.is((await drive(es({ patience: 2 }), 'val_loss', [1, 0.9, 0.85, 0.86])).stopped, 0);
  // Epochs 1 and 2 are not watched: the count starts at epoch 3.
  assert.is((await drive(es({ patience: 0, start_from_epoch: 2 }), 'val_loss', [1, 2, 3, 4])).stopped, 4);
});

test('early_stopping: restore_best_weights restores the best epoch at the end, also without a stop (Keras 3)', async () => {
  const r = await drive(es({ patience: 1, restore_best_weights: true }), 'val_loss', [1, 0.7, 0.8, 0.9, 0.1]);
  assert.is(r.stopped, 3);
  assert.ok(r.notes.includes('restored 2'), r.notes.join('\n'));
  assert.match(r.notes.join('\n'), 'best epoch, 2 (val_loss 0.7000)');
  const full = await drive(es({ patience: 9, restore_best_weights: true }), 'val_loss', [1, 0.5, 0.8]);
  assert.is(full.stopped, 0);
  assert.ok(full.notes.includes('restored 2'));
});

test('reduce_lr_on_plateau: factor after patience, cooldown, min_lr', async () => {
  assert.equal((await drive(rlr(), 'val_loss', [1, 1, 1, 1, 1, 1])).rates, [0.01, 0.01, 0.01, 0.005, 0.005, 0.0025]);
  // cooldown 2: after the cut at epoch 3, two epochs do not count.
  assert.equal((await drive(rlr({ cooldown: 2 }), 'val_loss', [1, 1, 1, 1, 1, 1, 1])).rates, [0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.0025]);
  // Never below min_lr, and no further cut once there.
  const r = await drive(rlr({ patience: 0, factor: 0.1, min_lr: 0.0005 }), 'val_loss', [1, 1, 1, 1]);
  assert.equal(r.rates, [0.01, 0.01, 0.001, 0.0005]);
  assert.match(r.notes[0]!, /^reduce_lr_on_plateau after epoch 2: val_loss did not improve for 1 epoch \(best 1\.0000\); learning rate 0\.01 → 0\.001$/);
  // Improvements by more than min_delta reset the count.
  assert.equal((await drive(rlr(), 'val_loss', [1, 0.9, 0.8, 0.7])).rates, [0.01, 0.01, 0.01, 0.01]);
});

const mc = (o: Partial<ModelCheckpointSpec> = {}) => {
  const saves: { path: string; weightsOnly: boolean; best: unknown }[] = [];
  const cb: ModelCheckpoint = new ModelCheckpoint(
    { type: 'model_checkpoint', filepath: 'ckpt/{epoch:02d}-{val_loss:.2f}.safetensors', monitor: 'val_loss', mode: 'auto', save_best_only: false, save_weights_only: false, verbose: 1, ...o },
    async (path, weightsOnly, state) => { saves.push({ path, weightsOnly, best: state.callbacks[0]?.values.best }); },
  );
  return { cb, saves };
};

test('model_checkpoint: every epoch, or with save_best_only only strict improvements (Keras); the saved state holds the new best', async () => {
  const every = mc();
  const r = await drive(every.cb, 'val_loss', [0.5, 0.6, 0.4]);
  assert.equal(every.saves.map((s) => s.path), ['ckpt/01-0.50.safetensors', 'ckpt/02-0.60.safetensors', 'ckpt/03-0.40.safetensors']);
  assert.is(r.notes[0], 'Epoch 1: saving the checkpoint to ckpt/01-0.50.safetensors');
  const best = mc({ save_best_only: true, filepath: 'best.safetensors' });
  const b = await drive(best.cb, 'val_loss', [0.5, 0.5, 0.6, 0.4]);
  assert.equal(best.saves.map((s) => s.best), [0.5, 0.4], 'saved at epochs 1 and 4; a tie is no improvement');
  assert.equal(b.notes, [
    'Epoch 1: val_loss improved from inf to 0.50000, saving the checkpoint to best.safetensors'.replace('inf', 'Infinity'),
    'Epoch 2: val_loss did not improve from 0.50000',
    'Epoch 3: val_loss did not improve from 0.50000',
    'Epoch 4: val_loss improved from 0.50000 to 0.40000, saving the checkpoint to best.safetensors',
  ]);
  // max mode for accuracies, initial_value_threshold, weights only, silent by default.
  const acc = mc({ save_best_only: true, monitor: 'val_accuracy', initial_value_threshold: 0.7, save_weights_only: true, verbose: 0, filepath: 'w{epoch}.safetensors' });
  const a = await drive(acc.cb, 'val_accuracy', [0.6, 0.8, 0.75, 0.9]);
  assert.equal(acc.saves, [{ path: 'w2.safetensors', weightsOnly: true, best: 0.8 }, { path: 'w4.safetensors', weightsOnly: true, best: 0.9 }]);
  assert.equal(a.notes, []);
  // Its state resumes: a restored best of 0.4 is not beaten by 0.45.
  const resumed = mc({ save_best_only: true });
  resumed.cb.onTrainBegin();
  resumed.cb.setState({ type: 'model_checkpoint', values: { best: 0.4 } });
  const control = { note: () => {}, state: () => ({ callbacks: [] }) } as unknown as TrainControl;
  await resumed.cb.afterEpoch(0, { loss: 0, accuracy: 0, learning_rate: 0, val_loss: 0.45 }, control);
  assert.is(resumed.saves.length, 0);
  assert.is(formatFilepath('{epoch:3d}|{loss}|{val_accuracy:.1f}|{nope}', 7, { loss: 0.25, val_accuracy: 0.96 }), '  7|0.25|1.0|{nope}');
});

// A small valid model; tests add lines under `training:` (line 9) or `dataset:`.
const base = (training: string[], dataset: string[] = []) => [
  'name: m', 'seed: 1', 'input_shape: [28, 28]', 'layers:', '  - type: flatten', '  - {type: dense, units: 10}',
  'loss: {type: sparse_categorical_crossentropy}', 'optimizer: {type: adam}',
  'training:', '  epochs: 3', '  batch_size: 32', ...training,
  'dataset:', '  name: mnist', ...dataset, '',
].join('\n');

function errorsOf(text: string): ConfigError[] {
  const r = validateModelConfig(text, 'm.yaml');
  assert.ok(!r.ok, 'expected errors');
  return r.ok ? [] : r.errors;
}
const at = (e: ConfigError) => `${e.line}:${e.column}`;

test('config: validation_split outside [0, 1) is an error at its value', () => {
  for (const v of ['1', '-0.1', '1.5']) {
    const [e] = errorsOf(base([`  validation_split: ${v}`]));
    assert.is(at(e!), '12:21');
    assert.match(e!.message, "'validation_split' must be >= 0 and < 1");
  }
  const ok = validateModelConfig(base(['  validation_split: 0.1']), 'm.yaml');
  assert.ok(ok.ok && ok.spec.training.validation_split === 0.1 && ok.spec.training.callbacks?.length === 0);
});

test('config: a monitor that names no metric, with a did-you-mean', () => {
  const [e] = errorsOf(base(['  validation_split: 0.1', '  callbacks:', '    - type: early_stopping', '      monitor: val_acuracy']));
  assert.is(at(e!), '15:16');
  assert.is(e!.message, "early_stopping: unknown monitor 'val_acuracy'; expected one of: loss, accuracy, val_loss, val_accuracy; did you mean 'val_accuracy'?");
  const [f] = errorsOf(base(['  validation_split: 0.1', '  callbacks:', '    - {type: reduce_lr_on_plateau, monitor: los}']));
  assert.is(at(f!), '14:45');
  assert.match(f!.message, "did you mean 'loss'?");
});

test('config: a val_ monitor without validation data; an unknown callback type; both validation sources', () => {
  const [e] = errorsOf(base(['  callbacks:', '    - {type: early_stopping}']));
  assert.is(at(e!), '13:7');
  assert.is(e!.message, "early_stopping monitors 'val_loss', but the model has no validation data");
  assert.match(e!.hint ?? '', 'validation_split');
  const [t] = errorsOf(base(['  callbacks:', '    - {type: early_stoping}']));
  assert.is(at(t!), '13:14');
  assert.match(t!.message, "unknown callback type 'early_stoping'; expected one of: early_stopping, model_checkpoint, reduce_lr_on_plateau; did you mean 'early_stopping'?");
  const [b] = errorsOf(base(['  validation_split: 0.2'], ['  validation_images: v.idx', '  validation_labels: l.idx']));
  assert.is(at(b!), '12:21');
  assert.match(b!.message, 'validation_split and dataset.validation_images both give validation data');
  const [l] = errorsOf(base([], ['  validation_images: v.idx']));
  assert.is(at(l!), '14:3');
  assert.is(l!.message, 'dataset.validation_images is given but dataset.validation_labels is not');
  const [r] = errorsOf(base(['  callbacks:', '    - {type: reduce_lr_on_plateau, monitor: loss, factor: 1}']));
  assert.is(at(r!), '13:59');
  assert.match(r!.message, "'factor' must be > 0 and < 1");
});

test('config: model_checkpoint needs a filepath whose fields name logs; its monitor matters only with save_best_only', () => {
  const [p] = errorsOf(base(['  callbacks:', '    - {type: model_checkpoint}']));
  assert.is(p!.message, "training.callbacks[0] is missing the required key 'filepath'");
  const [f] = errorsOf(base(['  validation_split: 0.1', '  callbacks:', '    - {type: model_checkpoint, filepath: "c/{epoch}-{val_los:.2f}.st"}']));
  assert.is(at(f!), '14:42');
  assert.match(f!.message, "model_checkpoint: filepath field '{val_los}' names no log; expected epoch or one of: loss, accuracy, val_loss, val_accuracy");
  const [g] = errorsOf(base(['  callbacks:', '    - {type: model_checkpoint, filepath: "c{epoch:x}"}']));
  assert.match(g!.message, "filepath field '{epoch:x}': the format must be like 02d or .4f");
  // No validation data: fine while every epoch is saved (the default monitor val_loss is not read) ...
  const ok = validateModelConfig(base(['  callbacks:', '    - {type: model_checkpoint, filepath: "c/{epoch:02d}.safetensors"}']), 'm.yaml');
  assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.errors));
  const cb = ok.ok ? ok.spec.training.callbacks![0]! : undefined;
  assert.equal(cb, { type: 'model_checkpoint', filepath: 'c/{epoch:02d}.safetensors', monitor: 'val_loss', mode: 'auto', save_best_only: false, save_weights_only: false, verbose: 0 });
  // ... but an error once save_best_only reads it.
  const [v] = errorsOf(base(['  callbacks:', '    - {type: model_checkpoint, filepath: c.st, save_best_only: true}']));
  assert.is(v!.message, "model_checkpoint monitors 'val_loss', but the model has no validation data");
});

test.run();
