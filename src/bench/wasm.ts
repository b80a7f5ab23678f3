// The wasm backend's op runner: the exported AssemblyScript kernels
// (KernelExports of src/runtime/wasm/module.ts) called directly on buffers in
// the module's linear memory, exactly as the wasm backend's plan calls them.
// dense_backward_input reads a transposed copy of W (made once, untimed, as
// the backend keeps one per layer). Dense kernels run on their dense path
// (sparse = 0): bench inputs have no zeros to skip.

import { adamStepSize } from '../runtime/reference/kernels.js';
import { dropoutScale, dropoutThreshold } from '../runtime/rng.js';
import { chooseVariant, Heap, instantiateKernels, instantiateKernelsWith, type KernelExports, type WasmVariant } from '../runtime/wasm/module.js';
import { toCustomWasmKernel, type AsKernel } from './custom-as.js';
import { ADAM, ADAM_T, DROPOUT_KEY, DROPOUT_RATE, type OpCase, type OpData } from './ops.js';
import type { OpRunner, PreparedKernel } from './runner.js';
import { timeSync } from './stats.js';

export class WasmOpRunner implements OpRunner {
  readonly backend = 'wasm' as const;
  readonly description: string;

  private constructor(readonly k: KernelExports, readonly variant: WasmVariant) {
    this.description = variant === 'relaxed' ? 'wasm (relaxed SIMD, FMA; AssemblyScript kernels, single thread)' : 'wasm (SIMD128; AssemblyScript kernels, single thread)';
  }

  static async create(relaxed: boolean | 'auto' = 'auto'): Promise<WasmOpRunner> {
    const variant = chooseVariant(relaxed);
    return new WasmOpRunner(await instantiateKernels(variant), variant);
  }

  supports(): boolean {
    return true;
  }

  /** A runner for one custom AssemblyScript kernel (its op only), sharing memory with the built-in module as in training. */
  withKernel(custom: AsKernel): Pick<OpRunner, 'prepare'> {
    return { prepare: (c, data) => this.prepare(c, data, custom) };
  }

  async prepare(c: OpCase, data: OpData, custom?: AsKernel): Promise<PreparedKernel> {
    // A fresh instance per case keeps memory from growing over a long run.
    let k: KernelExports;
    let fn: ((...args: number[]) => void) | undefined;
    if (custom) {
      if (c.op !== custom.op) throw new Error(`${custom.file} is a ${custom.op} kernel, not ${c.op}`);
      const inst = await instantiateKernelsWith(this.variant, { [custom.op]: toCustomWasmKernel(custom) });
      k = inst.exports;
      fn = inst.custom[custom.op];
    } else {
      k = await instantiateKernels(this.variant);
    }
    // The user's function with the built-in's signature, or the built-in.
    const denseForward = (fn ?? k.denseForward) as KernelExports['denseForward'];
    const denseBackwardWeights = (fn ?? k.denseBackwardWeights) as KernelExports['denseBackwardWeights'];
    const denseBackwardInput = (fn ?? k.denseBackwardInput) as KernelExports['denseBackwardInput'];
    const heap = new Heap(k);
    const put = (a: Float32Array) => {
      const p = heap.alloc(a.byteLength);
      heap.f32(p, a.length).set(a);
      return p;
    };
    const p: Record<string, number> = {};
    for (const [name, a] of Object.entries(data.inputs)) p[name] = put(a);
    for (const [name, a] of Object.entries(data.expected)) p[name] ??= heap.alloc(a.byteLength);
    const d = c.dims;
    let run: () => void;
    let scalars: (() => Record<string, number>) | undefined;
    switch (c.op) {
      case 'dense_forward': {
        const [M, K, N] = d as [number, number, number];
        run = () => denseForward(p.x!, p.w!, p.b!, p.y!, M, K, N, 1, 0);
        break;
      }
      case 'dense_backward_weights': {
        const [M, K, N] = d as [number, number, number];
        run = () => denseBackwardWeights(p.x!, p.dy!, p.dw!, p.db!, M, K, N, 0);
        break;
      }
      case 'dense_backward_input': {
        const [M, K, N] = d as [number, number, number];
        const wt = heap.alloc(K * N * 4);
        k.transpose(p.w!, wt, K, N);
        run = () => denseBackwardInput(p.dy!, wt, p.dx!, p.reluOut!, M, K, N);
        break;
      }
      case 'relu_backward': {
        const n = d[0]! * d[1]!;
        run = () => k.reluBackward(p.dy!, p.y!, p.dx!, n);
        break;
      }
      case 'dropout': {
        const n = d[0]! * d[1]!;
        const thr = dropoutThreshold(DROPOUT_RATE), scale = dropoutScale(DROPOUT_RATE);
        run = () => k.dropout(p.x!, p.y!, n, DROPOUT_KEY, thr, scale);
        break;
      }
      case 'softmax_xent': {
        const [M, C] = d as [number, number];
        const labels = heap.alloc(M * 4);
        heap.u32(labels, M).set(data.labels!);
        const metrics = heap.alloc(24);
        run = () => k.softmaxXent(p.logits!, labels, p.dlogits!, M, C, M, metrics);
        heap.f64(metrics, 3).fill(0);
        scalars = () => {
          const m = heap.f64(metrics, 3);
          return { lossSum: m[0]!, correct: m[1]! };
        };
        break;
      }
      case 'adam': {
        const n = d[0]!;
        const alpha = adamStepSize(ADAM, ADAM_T);
        run = () => k.adam(p.p!, p.g!, p.m!, p.v!, n, alpha, ADAM.beta1, ADAM.beta2, ADAM.epsilon);
        break;
      }
    }
    return {
      check: async () => {
        run();
        const arrays: Record<string, Float32Array> = {};
        for (const [name, a] of Object.entries(data.expected)) arrays[name] = heap.f32(p[name]!, a.length).slice();
        return { arrays, scalars: scalars?.() };
      },
      time: (o) => timeSync(run, o),
      dispose: () => {},
    };
  }

  dispose(): void {}
}
