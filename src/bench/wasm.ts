// The wasm backend's op runner: one op's plan record, encoded by the op's
// registered `wasm.encode` exactly as the wasm backend's plan encodes it,
// run through the AssemblyScript step loop's dispatch (`runRecords`) on the
// instance's buffers in the module's linear memory. A user's kernel is
// linked as in training (env.custom_<op>) and its record gets the op's
// code + CUSTOM_CODE_OFFSET, so the check runs the very call training makes.
//
// Layout: every buffer of the instance in the Heap; `transposed(w)` is a
// copy of W made once (untimed) with the module's transpose, as the backend
// keeps one per kernel; nothing is marked sparse (bench inputs have no
// zeros to skip); labels are a u32 buffer (the instance's output `labels`
// where the op writes them: gather); losses add to 3 f64 metrics. An
// instance's dataset (gather's) is copied into the heap as bytes and the
// record runs through `runRecordsOn`, which points gather at it.

import { LABELS_BUFFER } from '../ops/gather.js';
import type { WasmLayout } from '../ops/types.js';
import type { Op } from '../runtime/graph.js';
import { encodeRecord, packRecords } from '../runtime/wasm/plan.js';
import { chooseVariant, Heap, instantiateKernelsWith, type KernelExports, type WasmVariant } from '../runtime/wasm/module.js';
import { toCustomWasmKernel, type AsKernel } from '../custom/as-contract.js';
import { BENCH_METRIC_ACCUMULATORS, instanceBuffers, labelsAsFloats, outputsOf, scalarsOf, type OpCase, type OpData } from './ops.js';
import type { OpRunner, PreparedKernel } from './runner.js';
import { timeSync } from './stats.js';

export class WasmOpRunner implements OpRunner {
  readonly backend = 'wasm' as const;
  readonly description: string;

  private constructor(readonly variant: WasmVariant) {
    this.description = variant === 'relaxed' ? 'wasm (relaxed SIMD, FMA; AssemblyScript kernels, single thread)' : 'wasm (SIMD128; AssemblyScript kernels, single thread)';
  }

  static async create(relaxed: boolean | 'auto' = 'auto'): Promise<WasmOpRunner> {
    return new WasmOpRunner(chooseVariant(relaxed));
  }

  supports(): boolean {
    return true;
  }

  /** A runner for one custom AssemblyScript kernel (its op only), sharing memory with the built-in module as in training. */
  withKernel(custom: AsKernel): Pick<OpRunner, 'prepare'> {
    return { prepare: (c, data) => this.prepare(c, data, custom) };
  }

  async prepare(c: OpCase, data: OpData, custom?: AsKernel): Promise<PreparedKernel> {
    if (custom && c.op !== custom.op) throw new Error(`${custom.file} is a ${custom.op} kernel, not ${c.op}`);
    const inst = data.instance;
    // A fresh instance per case keeps memory from growing over a long run.
    const { exports: k } = await instantiateKernelsWith(this.variant, custom ? { [custom.op]: toCustomWasmKernel(custom) } : {});
    const heap = new Heap(k);
    const ptrs = new Map<string, number>();
    for (const [name, a] of Object.entries(instanceBuffers(inst))) {
      const p = heap.alloc(Math.max(a.byteLength, 16));
      heap.f32(p, a.length).set(a);
      ptrs.set(name, p);
    }
    let labels = ptrs.get(LABELS_BUFFER);
    if (labels === undefined) {
      labels = heap.alloc(4 * Math.max(inst.rows, 4));
      if (inst.labels) heap.u32(labels, inst.labels.length).set(inst.labels);
    }
    const bytes = (a: Uint8Array | Uint32Array) => {
      const p = heap.alloc(Math.max(a.byteLength, 16));
      heap.u8(p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      return p;
    };
    const ds = inst.dataset;
    const [images, dsLabels, order, start] = ds ? [bytes(ds.images), bytes(ds.labels), bytes(ds.order), ds.start] : [0, 0, 0, 0];
    const targets = ds?.targets ? bytes(new Uint8Array(ds.targets.buffer, ds.targets.byteOffset, ds.targets.byteLength)) : 0;
    const metrics = heap.alloc(24 + 8 * BENCH_METRIC_ACCUMULATORS);
    const layout = benchLayout(k, heap, inst.op, ptrs, labels);
    const plan = packRecords([encodeRecord(inst.op as Op, layout, custom ? new Set([c.op]) : new Set())]);
    const planPtr = heap.alloc(plan.byteLength);
    heap.i32(planPtr, plan.length).set(plan);
    const o = inst.optimizer;
    const run = () => {
      k.setTargets(targets);
      k.runRecordsOn(planPtr, 1, inst.rows, inst.step, inst.seed, metrics, o.learningRate, o.beta1, o.beta2, o.epsilon, images, dsLabels, order, start);
    };
    // Losses are checked only where the reference reported them (the same ops).
    const wantScalars = data.scalars !== undefined;
    return {
      check: async () => {
        heap.f64(metrics, 3 + BENCH_METRIC_ACCUMULATORS).fill(0);
        run();
        const m = heap.f64(metrics, 3 + BENCH_METRIC_ACCUMULATORS);
        return {
          arrays: outputsOf(inst, (name, n) => {
            const a = heap.f32(ptrs.get(name)!, n).slice();
            return name === LABELS_BUFFER ? labelsAsFloats(a, inst.rows) : a;
          }),
          scalars: wantScalars ? scalarsOf(data.scalars!, m[0]!, m[1]!, (k) => m[3 + k]!) : undefined,
        };
      },
      time: (t) => timeSync(run, t),
      dispose: () => {},
    };
  }

  dispose(): void {}
}

/** The WasmLayout of one instance: its buffers' heap offsets, transposed copies made on demand. */
function benchLayout(k: KernelExports, heap: Heap, op: { kind: string }, ptrs: Map<string, number>, labels: number): WasmLayout {
  const ptr = (name: string) => {
    const p = ptrs.get(name);
    if (p === undefined) throw new Error(`the ${op.kind} bench instance has no buffer '${name}'`);
    return p;
  };
  const transposed = new Map<string, number>();
  return {
    ptr: (name) => (name === null ? 0 : ptr(name)),
    transposed: (name) => {
      let wt = transposed.get(name);
      if (wt === undefined) {
        // A record that reads a transposed kernel [K×N] names its K and N (as dense_backward_input's k, n).
        const { k: K, n: N } = op as { k?: unknown; n?: unknown };
        if (typeof K !== 'number' || typeof N !== 'number') throw new Error(`${op.kind} reads a transposed copy of '${name}' but its record has no k and n`);
        wt = heap.alloc(K * N * 4);
        k.transpose(ptr(name), wt, K, N);
        transposed.set(name, wt);
      }
      return wt;
    },
    labels,
    sparse: () => false,
  };
}
