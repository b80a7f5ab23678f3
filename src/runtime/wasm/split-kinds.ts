// Which op kinds split how on the wasm threads (src/runtime/wasm/schedule.ts
// decides, kernels/as/threads_share.ts runs the shares): the lists must name
// only what threads_share.ts has a share of; a kind in none of them runs on
// thread 0.

/** Kinds whose examples split with the record's per-row pointers moved (kernels/as/threads_share.ts: by the row table, or its own cases). */
export const ROW_KINDS = new Set([
  'gather', 'gather_f32', 'gather_targets', 'dropout', 'dropout_backward',
  'relu', 'sigmoid', 'tanh', 'leaky_relu', 'elu', 'gelu', 'gelu_tanh', 'silu', 'softplus', 'softmax', 'scale',
  'relu_backward', 'softmax_backward', 'add', 'subtract', 'multiply', 'concat', 'split',
  'sigmoid_backward', 'tanh_backward', 'leaky_relu_backward', 'elu_backward', 'gelu_backward', 'gelu_tanh_backward', 'silu_backward', 'softplus_backward',
  'dense_forward', 'dense_backward_input', 'conv2d_forward', 'conv2d_backward_input',
  'max_pool2d', 'average_pool2d', 'max_pool2d_backward', 'average_pool2d_backward',
  'global_average_pool2d', 'global_average_pool2d_backward', 'global_max_pool2d', 'global_max_pool2d_backward',
  'attention_scores', 'attention_values', 'attention_scores_backward', 'attention_values_backward',
  'embedding', 'position_embedding', 'layer_norm',
]);
/**
 * Row-split losses and metrics: the metrics words of one row's terms (the
 * kernel run on one row: loss, correct) and of the ROW_REDUCE: [first,
 * second, row count (-1: none), entries per row, divisor of the first].
 */
export function rowLoss(op: Record<string, unknown>): { temp: [number, number]; reduce: number[]; entries: number } | null {
  const acc = op.accumulator as number | undefined;
  switch (op.kind) {
    case 'softmax_xent': case 'binary_crossentropy':
      return { temp: [0, 1], reduce: [0, 1, 2, 1, 1], entries: 1 };
    case 'categorical_crossentropy': { // its loss sum runs over rows and classes: one entry per (row, class)
      const C = op.classes as number;
      return { temp: [0, 1], reduce: [0, 1, 2, C, 1], entries: C };
    }
    case 'mean_squared_error': case 'mean_absolute_error': case 'huber':
      if (acc! < 0) return { temp: [0, -1], reduce: [0, -1, 2, 1, 1], entries: 1 };
      return acc! < 28 ? { temp: [3 + acc!, -1], reduce: [3 + acc!, -1, -1, 1, 1], entries: 1 } : null;
    case 'top_k_categorical_accuracy':
      return acc! < 28 ? { temp: [3 + acc!, -1], reduce: [3 + acc!, -1, -1, 1, 1], entries: 1 } : null;
    case 'sequence_xent': {
      const T = op.positions as number;
      return { temp: [0, 1], reduce: [0, 1, 2, T, T], entries: T };
    }
  }
  return null;
}
/** Elementwise over a parameter's floats: optimizers and gradient preparation (share(n, al) of each buffer of n floats). */
export const PARAM_KINDS = new Set(['adam', 'sgd', 'adamw', 'rmsprop', 'grad_prep', 'grad_clip']);
/** Ops whose sums over the batch split by columns (threads_share.ts colsShare). */
export const COLUMN_KINDS = new Set(['layer_norm_backward', 'embedding_backward', 'position_embedding_backward', 'batch_norm_train', 'batch_norm_inference', 'batch_norm_backward']);

