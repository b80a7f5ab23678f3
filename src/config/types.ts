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
export type BackendKind = 'auto' | 'webgpu' | 'wasm' | 'js';

export interface FlattenLayerSpec { type: 'flatten'; name?: string }
export interface DenseLayerSpec { type: 'dense'; name?: string; units: number; activation: ActivationSpec; use_bias: boolean }
export interface DropoutLayerSpec { type: 'dropout'; name?: string; rate: number }
export interface ActivationLayerSpec { type: 'activation'; name?: string; activation: ActivationSpec }
export type LayerSpec = FlattenLayerSpec | DenseLayerSpec | DropoutLayerSpec | ActivationLayerSpec;

export interface LossSpec { type: 'sparse_categorical_crossentropy'; from_logits: true }
export interface AdamSpec { type: 'adam'; learning_rate: number; beta_1: number; beta_2: number; epsilon: number }
export type OptimizerSpec = AdamSpec;

export interface TrainingSpec { epochs: number; batch_size: number; shuffle: boolean }

export interface DatasetSpec {
  name: 'mnist';
  /** Paths to IDX files (plain or gzip), resolved relative to the YAML file by the loader. */
  train_images?: string;
  train_labels?: string;
  test_images?: string;
  test_labels?: string;
}

export interface ModelSpec {
  name: string;
  seed: number;
  input_shape: number[];
  layers: LayerSpec[];
  loss: LossSpec;
  optimizer: OptimizerSpec;
  metrics: Array<'accuracy'>;
  training: TrainingSpec;
  dataset: DatasetSpec;
  backend: BackendKind;
  /** Custom kernels by op name (issue 7); paths relative to the YAML file. */
  kernels?: Record<string, string>;
}

/** Facts about a named dataset that shape checks need before any file is read. */
export const DATASET_FACTS: Record<DatasetSpec['name'], { inputShape: number[]; classes: number; train: number; test: number }> = {
  mnist: { inputShape: [28, 28], classes: 10, train: 60000, test: 10000 },
};
