// The js backend's op runner: the TypeScript reference kernels themselves
// (the same functions the js backend runs), timed on copies of the inputs.

import * as ref from '../runtime/reference/kernels.js';
import { ADAM, ADAM_T, DROPOUT_KEY, DROPOUT_RATE, type OpCase, type OpData } from './ops.js';
import type { OpRunner, PreparedKernel } from './runner.js';
import { timeSync } from './stats.js';

export class JsOpRunner implements OpRunner {
  readonly backend = 'js' as const;
  readonly description = 'js (TypeScript reference kernels, single thread)';

  supports(): boolean {
    return true;
  }

  async prepare(c: OpCase, data: OpData): Promise<PreparedKernel> {
    const i = Object.fromEntries(Object.entries(data.inputs).map(([k, v]) => [k, v.slice()]));
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(data.expected)) out[k] = i[k] ?? new Float32Array(v.length);
    let scalars: Record<string, number> | undefined;
    const d = c.dims;
    let run: () => void;
    switch (c.op) {
      case 'dense_forward': {
        const [M, K, N] = d as [number, number, number];
        run = () => ref.denseForward(i.x!, i.w!, i.b!, out.y!, M, K, N, true);
        break;
      }
      case 'dense_backward_weights': {
        const [M, K, N] = d as [number, number, number];
        run = () => ref.denseBackwardWeights(i.x!, i.dy!, out.dw!, out.db!, M, K, N);
        break;
      }
      case 'dense_backward_input': {
        const [M, K, N] = d as [number, number, number];
        run = () => ref.denseBackwardInput(i.dy!, i.w!, out.dx!, i.reluOut!, M, K, N);
        break;
      }
      case 'relu_backward': {
        const n = d[0]! * d[1]!;
        run = () => ref.reluBackward(i.dy!, i.y!, out.dx!, n);
        break;
      }
      case 'dropout': {
        const n = d[0]! * d[1]!;
        run = () => ref.dropout(i.x!, out.y!, n, DROPOUT_KEY, DROPOUT_RATE);
        break;
      }
      case 'softmax_xent': {
        const [M, C] = d as [number, number];
        run = () => { scalars = ref.softmaxXent(i.logits!, data.labels!, out.dlogits!, M, C, M) as unknown as Record<string, number>; };
        break;
      }
      case 'adam': {
        const n = d[0]!;
        const alpha = ref.adamStepSize(ADAM, ADAM_T);
        run = () => ref.adam(i.p!, i.g!, i.m!, i.v!, n, alpha, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
        break;
      }
    }
    return {
      check: async () => {
        run();
        return { arrays: { ...out }, scalars: scalars ? { ...scalars } : undefined };
      },
      time: (o) => timeSync(run, o),
      dispose: () => {},
    };
  }

  dispose(): void {}
}
