// The validated, typed form of a model YAML file (what the schema admits).
// src/config/model.schema.json is the source of truth for ranges and
// defaults; these types mirror it for the rest of the code.

/**
 * A Keras activation name: one of the schema's `definitions.activation`
 * enum (linear, relu, sigmoid, tanh, softmax, leaky_relu, elu, gelu, silu,
 * swish, softplus). Every name but linear, gelu's approximate form and the
 * swish alias is the kind of a registered op (src/layers/activation-lowering.ts).
 */
export type Activation = string;
/** An activation by name, or as an object with its settings (leaky_relu's negative_slope, elu's alpha, gelu's approximate). */
export type ActivationSpec = Activation | { type: Activation; negative_slope?: number; alpha?: number; approximate?: boolean };
import type { DataFacts } from '../data/types.js';

export type BackendKind = 'auto' | 'webgpu' | 'wasm' | 'js';

/** What every layer may say: its name, and the layers it takes (default: the previous one; `input`: the model input). */
export interface LayerBase { type: string; name?: string; inputs?: string[] }
export interface FlattenLayerSpec extends LayerBase { type: 'flatten' }
/** Keras's kernel_regularizer (L1L2): both default 0. */
export interface RegularizerSpec { l1?: number; l2?: number }
export interface DenseLayerSpec extends LayerBase { type: 'dense'; units: number; activation: ActivationSpec; use_bias: boolean; kernel_regularizer?: RegularizerSpec }
export interface DropoutLayerSpec extends LayerBase { type: 'dropout'; rate: number }
export interface ActivationLayerSpec extends LayerBase { type: 'activation'; activation: ActivationSpec }
/** An integer for both spatial axes, or [height, width]. */
export type Pair = number | [number, number];
export type Padding = 'valid' | 'same';
export interface Conv2dLayerSpec extends LayerBase {
  type: 'conv2d'; filters: number; kernel_size: Pair; strides: Pair; padding: Padding;
  dilation_rate: Pair; activation: ActivationSpec; use_bias: boolean; kernel_regularizer?: RegularizerSpec;
}
export interface Pooling2dLayerSpec extends LayerBase { type: 'max_pooling2d' | 'average_pooling2d'; pool_size: Pair; strides?: Pair; padding: Padding }
export interface GlobalPooling2dLayerSpec extends LayerBase { type: 'global_average_pooling2d' | 'global_max_pooling2d' }
export interface ReshapeLayerSpec extends LayerBase { type: 'reshape'; target_shape: number[] }
/** The merge layers (Keras Add, Subtract, Multiply, Average, Concatenate): two or more named inputs. */
export interface MergeLayerSpec extends LayerBase { type: 'add' | 'subtract' | 'multiply' | 'average'; inputs: string[] }
export interface ConcatenateLayerSpec extends LayerBase { type: 'concatenate'; inputs: string[]; axis: number }
export interface BatchNormalizationLayerSpec extends LayerBase {
  type: 'batch_normalization'; axis: number; momentum: number; epsilon: number; center: boolean; scale: boolean;
}
/** Keras Embedding: token ids [T] to vectors [T, output_dim]. */
export interface EmbeddingLayerSpec extends LayerBase { type: 'embedding'; input_dim: number; output_dim: number }
/** A learned vector per position added to the input [T, D] (KerasHub PositionEmbedding, summed). */
export interface PositionEmbeddingLayerSpec extends LayerBase { type: 'position_embedding'; sequence_length: number }
/** Keras MultiHeadAttention as self-attention on one input [T, F]. */
export interface MultiHeadAttentionLayerSpec extends LayerBase {
  type: 'multi_head_attention'; num_heads: number; key_dim: number; value_dim?: number; dropout: number; use_bias: boolean; use_causal_mask: boolean;
}
/** Keras LayerNormalization over the last axis. */
export interface LayerNormalizationLayerSpec extends LayerBase { type: 'layer_normalization'; axis: number; epsilon: number; center: boolean; scale: boolean }
export type LayerSpec =
  | FlattenLayerSpec | DenseLayerSpec | DropoutLayerSpec | ActivationLayerSpec
  | Conv2dLayerSpec | Pooling2dLayerSpec | GlobalPooling2dLayerSpec | ReshapeLayerSpec
  | MergeLayerSpec | ConcatenateLayerSpec | BatchNormalizationLayerSpec
  | EmbeddingLayerSpec | PositionEmbeddingLayerSpec | MultiHeadAttentionLayerSpec | LayerNormalizationLayerSpec;

export type LossSpec =
  | { type: 'sparse_categorical_crossentropy'; from_logits: true }
  | { type: 'categorical_crossentropy'; from_logits: true; label_smoothing?: number }
  | { type: 'binary_crossentropy'; from_logits?: boolean; label_smoothing?: number }
  | { type: 'mean_squared_error' }
  | { type: 'mean_absolute_error' }
  | { type: 'huber'; delta?: number };
/** Metric names as Keras logs them. */
export type MetricName = 'accuracy' | 'binary_accuracy' | 'mse' | 'mae' | 'top_k_categorical_accuracy';
/** A metric: its name, or an object with its arguments (top_k_categorical_accuracy's k). */
export type MetricSpec = MetricName | { type: 'top_k_categorical_accuracy'; k?: number };
/** Keras's learning-rate schedules (keras.optimizers.schedules), by optimizer step (src/runtime/optimizers/schedules.ts). */
export interface ExponentialDecaySpec { type: 'exponential_decay'; initial_learning_rate: number; decay_steps: number; decay_rate: number; staircase: boolean }
export interface CosineDecaySpec {
  type: 'cosine_decay'; initial_learning_rate: number; decay_steps: number; alpha: number;
  /** With warmup: linear from initial_learning_rate to warmup_target over warmup_steps, then the decay from warmup_target. */
  warmup_target?: number; warmup_steps: number;
}
export interface PiecewiseConstantDecaySpec { type: 'piecewise_constant_decay'; boundaries: number[]; values: number[] }
export type LearningRateSchedule = ExponentialDecaySpec | CosineDecaySpec | PiecewiseConstantDecaySpec;

/** What every optimizer takes (Keras's base optimizer): the rate or its schedule, and gradient clipping (at most one of the three). */
export interface OptimizerBaseSpec {
  learning_rate: number | LearningRateSchedule;
  clipnorm?: number;
  clipvalue?: number;
  global_clipnorm?: number;
}
export interface AdamSpec extends OptimizerBaseSpec { type: 'adam'; beta_1: number; beta_2: number; epsilon: number; amsgrad?: boolean }
export interface AdamWSpec extends OptimizerBaseSpec { type: 'adamw'; beta_1: number; beta_2: number; epsilon: number; amsgrad?: boolean; weight_decay: number }
export interface SgdSpec extends OptimizerBaseSpec { type: 'sgd'; momentum: number; nesterov: boolean }
export interface RmspropSpec extends OptimizerBaseSpec { type: 'rmsprop'; rho: number; momentum: number; epsilon: number; centered: boolean }
export type OptimizerSpec = AdamSpec | AdamWSpec | SgdSpec | RmspropSpec;

export type MonitorMode = 'auto' | 'min' | 'max';
/** Keras EarlyStopping's arguments (src/runtime/callbacks/early-stopping.ts). */
export interface EarlyStoppingSpec {
  type: 'early_stopping'; monitor: string; min_delta: number; patience: number; mode: MonitorMode;
  baseline?: number; restore_best_weights: boolean; start_from_epoch: number;
}
/** Keras ReduceLROnPlateau's arguments (src/runtime/callbacks/reduce-lr.ts). */
export interface ReduceLrOnPlateauSpec {
  type: 'reduce_lr_on_plateau'; monitor: string; factor: number; patience: number; mode: MonitorMode;
  min_delta: number; cooldown: number; min_lr: number;
}
/** Keras ModelCheckpoint's arguments (src/runtime/callbacks/model-checkpoint.ts). */
export interface ModelCheckpointSpec {
  type: 'model_checkpoint'; filepath: string; monitor: string; mode: MonitorMode;
  save_best_only: boolean; save_weights_only: boolean; initial_value_threshold?: number; verbose: 0 | 1;
}
export type CallbackSpec = EarlyStoppingSpec | ReduceLrOnPlateauSpec | ModelCheckpointSpec;

export interface TrainingSpec {
  epochs: number; batch_size: number; shuffle: boolean;
  /** 0 <= validation_split < 1; the last fraction of the training set (src/data/split.ts). Optional in a spec built by hand (the schema fills 0 and []). */
  validation_split?: number;
  callbacks?: CallbackSpec[];
}

export type DatasetName = 'mnist' | 'fashion_mnist';
export type DatasetFormat = 'idx' | 'csv' | 'npz' | 'image_folder' | 'text';

export interface DatasetSpec {
  /** A named dataset (its files are known); without it, `format` and the file keys say where the data is. */
  name?: DatasetName;
  /** Default idx. */
  format?: DatasetFormat;
  /** Number of classes; labels must be 0..classes-1. Default: from the data (largest label + 1, the CSV's distinct labels, the class folders). */
  classes?: number;
  /** Paths to IDX files (plain or gzip), resolved relative to the YAML file by the loader. */
  train_images?: string;
  train_labels?: string;
  test_images?: string;
  test_labels?: string;
  /** Separate validation files (Keras validation_data); exclusive with training.validation_split. */
  validation_images?: string;
  validation_labels?: string;
  /** csv, npz, image_folder: the file (or folder) holding all the data; csv and image_folder also train_path/test_path. */
  path?: string;
  train_path?: string;
  test_path?: string;
  /** csv: the label column, by header name or 0-based index (default: the last column). */
  label?: string | number;
  /** csv: the feature columns, by name or index (default: every other column). */
  features?: Array<string | number>;
  /** csv: whether the first row names the columns (default true). */
  header?: boolean;
  /** csv: the field separator (default ','). */
  delimiter?: string;
  /** csv: classification (labels are class ids or names) or regression (the label column is a float target). */
  task?: 'classification' | 'regression';
  /** csv: feature scaling, with statistics of the training split only. */
  normalize?: 'none' | 'standardize' | 'minmax';
  /** csv, npz without a test set: the fraction of rows held out as the test set (seeded shuffle). */
  test_split?: number;
  /** image_folder: every image is resized to [height, width]. */
  image_size?: [number, number];
  /** image_folder: 1 channel or 3. */
  color_mode?: 'grayscale' | 'rgb';
  /** text: several files or folders instead of path. */
  paths?: string[];
  /** text: characters per window. */
  sequence_length?: number;
}

export interface ModelSpec {
  name: string;
  seed: number;
  input_shape: number[];
  layers: LayerSpec[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  metrics: MetricSpec[];
  training: TrainingSpec;
  dataset: DatasetSpec;
  /**
   * What the data holds (example shape, classes, dtype), once known: from a
   * named dataset's facts, or filled in by a loader from the files' headers
   * before validation checks the model against it. Not a YAML key.
   */
  data?: DataFacts;
  backend: BackendKind;
  /** wasm worker threads (issue 14): a count, or 'auto' (the available cores). */
  threads?: number | 'auto';
  /** Custom kernels by op name (issue 7); paths relative to the YAML file. */
  kernels?: Record<string, string>;
}

/** Facts about a named dataset that shape checks need before any file is read. */
export const DATASET_FACTS: Record<DatasetName, DataFacts & { train: number; test: number }> = {
  mnist: { source: 'mnist', inputShape: [28, 28], classes: 10, dtype: 'uint8', train: 60000, test: 10000 },
  fashion_mnist: {
    source: 'fashion_mnist', inputShape: [28, 28], classes: 10, dtype: 'uint8', train: 60000, test: 10000,
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  },
};

/** The facts a spec's data is checked against: what a loader filled in, else the named dataset's. */
export function dataFactsOf(spec: Pick<ModelSpec, 'data' | 'dataset'>): DataFacts | undefined {
  return spec.data ?? (spec.dataset.name !== undefined ? DATASET_FACTS[spec.dataset.name] : undefined);
}
