// Loading the embedded AssemblyScript kernels (kernels/as -> build/wasm ->
// src/generated/kernels.ts as base64) and a bump allocator over their linear
// memory. Browser-safe: no Node imports; base64 is decoded with atob.

import { WASM_RELAXED_BASE64, WASM_RELAXED_THREADS_BASE64, WASM_SIMD_BASE64, WASM_SIMD_THREADS_BASE64 } from '../../generated/kernels.js';
import { replaceableOps } from '../../ops/index.js';

/** The functions kernels/as/index.ts exports (pointers are byte offsets). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  _initialize?: () => void;
  heapBase(): number;
  relaxedSimd(): number;
  rngKey(seed: number, stream: number, step: number): number;
  hashAt(key: number, index: number): number;
  gemm(a: number, ars: number, ats: number, b: number, bs: number, c: number, cs: number, M: number, N: number, T: number, init: number, epi: number, m: number, ms: number, sparse: number): void;
  /** sparse != 0 skips the zeros of x (pixel inputs); the result is the same. */
  denseForward(x: number, w: number, b: number, y: number, M: number, K: number, N: number, relu: number, sparse: number): void;
  denseBackwardWeights(x: number, dy: number, dw: number, db: number, M: number, K: number, N: number, sparse: number): void;
  denseBackwardInput(dy: number, wt: number, dx: number, reluOut: number, M: number, K: number, N: number): void;
  columnSums(y: number, out: number, M: number, N: number): void;
  relu(x: number, y: number, n: number): void;
  reluBackward(dy: number, y: number, dx: number, n: number): void;
  dropout(x: number, y: number, n: number, key: number, threshold: number, scale: number): void;
  dropoutMask(out: number, n: number, key: number, threshold: number): void;
  transpose(w: number, wt: number, K: number, N: number): void;
  softmaxXent(logits: number, labels: number, dl: number, M: number, C: number, gradScale: number, metrics: number): void;
  softmax(logits: number, out: number, M: number, C: number): void;
  regressionLoss(kind: number, y: number, t: number, dy: number, M: number, W: number, delta: number, gradScale: number, metrics: number, accumulator: number): void;
  copyOutputs(y: number, out: number, M: number, W: number, accumulator: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, alpha: number, beta1: number, beta2: number, epsilon: number): void;
  adamStepSize(lr: number, beta1: number, beta2: number, t: number): number;
  sgd(p: number, g: number, m: number, n: number, lr: number, momentum: number, nesterov: number): void;
  adamw(p: number, g: number, m: number, v: number, vhat: number, n: number, alpha: number, beta1: number, beta2: number, epsilon: number, lr: number, weightDecay: number): void;
  gradPrep(p: number, g: number, n: number, l1: number, l2: number, clipvalue: number): void;
  gradNorm(g: number, out: number, n: number, accumulate: number): void;
  gradClip(g: number, norm: number, n: number, clipnorm: number): void;
  regPenalty(p: number, n: number, l1: number, l2: number, rows: number, metrics: number): void;
  rmsprop(p: number, g: number, v: number, mom: number, mg: number, n: number, lr: number, rho: number, momentum: number, epsilon: number): void;
  gather(images: number, labels: number, order: number, offset: number, rows: number, features: number, x: number, labelsOut: number): void;
  gatherTargets(targets: number, order: number, offset: number, rows: number, width: number, y: number): void;
  /** The float targets of the dataset the next trainSteps/runInference/runRecordsOn reads (0: none). */
  setTargets(targets: number): void;
  gatherF32(images: number, labels: number, order: number, offset: number, rows: number, features: number, x: number, labelsOut: number): void;
  trainSteps(
    plan: number, nOps: number, images: number, labels: number, count: number, order: number, batch: number,
    firstBatch: number, steps: number, globalStep: number, seed: number, metrics: number,
    /** Byte offset of `steps` f64 learning rates, one per step. */
    rates: number, beta1: number, beta2: number, epsilon: number,
  ): number;
  runInference(plan: number, nOps: number, images: number, labels: number, count: number, batch: number, metrics: number, probs: number): void;
  /** One pass over a plan of records on `rows` rows (bench, conformance tests, custom-kernel checks). */
  runRecords(plan: number, nOps: number, rows: number, step: number, seed: number, metrics: number, lr: number, beta1: number, beta2: number, epsilon: number): void;
  /** runRecords with a dataset for gather: rows order[start …] of images and labels (bytes; order 0: in sequence). */
  runRecordsOn(
    plan: number, nOps: number, rows: number, step: number, seed: number, metrics: number, lr: number, beta1: number, beta2: number, epsilon: number,
    images: number, labels: number, order: number, start: number,
  ): void;
  /** Roofline probes (kernels/as/bench.ts). */
  peakMadd(iters: number): number;
  streamAdd(x: number, y: number, z: number, n: number): void;
  /** The threads build only (kernels/as/threads.ts). */
  threadScratchBytes?(): number;
  controlLayout?(out: number): void;
}

export type WasmVariant = 'simd' | 'relaxed';

const bytesCache: Partial<Record<string, Uint8Array>> = {};

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The .wasm bytes of one variant of the kernels; `threads`: the shared-memory build (asconfig.threads.json). */
export function kernelBytes(variant: WasmVariant, threads = false): Uint8Array {
  const key = `${variant}${threads ? '-threads' : ''}`;
  const b64 = threads
    ? (variant === 'relaxed' ? WASM_RELAXED_THREADS_BASE64 : WASM_SIMD_THREADS_BASE64)
    : (variant === 'relaxed' ? WASM_RELAXED_BASE64 : WASM_SIMD_BASE64);
  return (bytesCache[key] ??= decodeBase64(b64));
}

/** Why this engine cannot run the threads build (no SharedArrayBuffer, no wasm threads), or null. */
export function threadsUnsupported(variant: WasmVariant): string | null {
  if (typeof SharedArrayBuffer === 'undefined') return 'this engine has no SharedArrayBuffer';
  try {
    if (!WebAssembly.validate(kernelBytes(variant, true) as BufferSource)) return 'this engine rejects WebAssembly threads (shared memory, atomics)';
  } catch {
    return 'this engine rejects WebAssembly threads (shared memory, atomics)';
  }
  return null;
}

/** Pages of the threads build's shared memory at most (asconfig.threads.json maximumMemory): 2 GiB. */
export const SHARED_MAX_PAGES = 32768;

/** Whether this engine accepts the relaxed-SIMD build (Node 20 needs --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  try {
    return WebAssembly.validate(kernelBytes('relaxed') as BufferSource);
  } catch {
    return false;
  }
}

export function simdSupported(): boolean {
  try {
    return WebAssembly.validate(kernelBytes('simd') as BufferSource);
  } catch {
    return false;
  }
}

/** Picks a variant: 'auto' takes relaxed SIMD when the engine validates it. */
export function chooseVariant(relaxed: boolean | 'auto' = 'auto'): WasmVariant {
  if (!simdSupported()) throw new Error('this JavaScript engine does not support WebAssembly SIMD (128-bit), which the wasm backend needs');
  if (relaxed === false) return 'simd';
  const ok = relaxedSimdSupported();
  if (relaxed === true && !ok) {
    throw new Error('relaxed SIMD was requested but this engine rejects it (in Node 20 start node with --experimental-wasm-relaxed-simd)');
  }
  return ok ? 'relaxed' : 'simd';
}

/** Ops a custom AssemblyScript kernel may replace: every registered op with a contract; the built-in module imports `env.custom_<op>` for each. */
export const CUSTOM_WASM_OPS: readonly string[] = replaceableOps().map((d) => d.kind);
export type CustomWasmOp = string;

/**
 * A user's kernel as the wasm backend takes it: a compiled module that
 * imports `env.memory` (the built-in module's memory, shared) and optionally
 * `env.abort`, keeps its static data in its op's region (customDataRegion),
 * and exports `exportName` with the signature of the built-in kernel.
 */
export interface CustomWasmKernel {
  /** Shown in descriptions and errors (the user's file). */
  label: string;
  module: WebAssembly.Module;
  exportName: string;
}

/**
 * Linear memory layout with custom kernels: [0, 64 KiB) unused; then one
 * 16 KiB region per op of CUSTOM_WASM_OPS for its custom module's static data
 * (customDataRegion; the module is compiled with --memoryBase at its start),
 * up to CUSTOM_DATA_END, the built-in module's memoryBase (asconfig.json);
 * then the built-in's static data, then the Heap from heapBase().
 */
export const CUSTOM_DATA_REGION = 16384;
export const CUSTOM_DATA_END = 2097152;

/** [start, end) of the static data region of a custom kernel for `op`. */
export function customDataRegion(op: CustomWasmOp): [number, number] {
  const i = CUSTOM_WASM_OPS.indexOf(op);
  if (i < 0) throw new Error(`'${op}' is not an op a custom kernel may replace`);
  const start = 65536 + CUSTOM_DATA_REGION * i;
  if (start + CUSTOM_DATA_REGION > CUSTOM_DATA_END) throw new Error('too many replaceable ops for the custom kernels\' static data regions (raise memoryBase in asconfig.json)');
  return [start, start + CUSTOM_DATA_REGION];
}
const INITIAL_PAGES = 40; // asconfig.json initialMemory

type KernelFn = (...args: number[]) => void;

/** Reads an AssemblyScript string (UTF-16, byte length at ptr − 4) for abort messages. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr || ptr < 4 || ptr >= memory.buffer.byteLength) return '';
  const bytes = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  if (ptr + bytes > memory.buffer.byteLength) return '';
  return String.fromCharCode(...new Uint16Array(memory.buffer.slice(ptr, ptr + (bytes & ~1))));
}

/**
 * Instantiates one variant of the kernels with its own memory, and the
 * custom kernels given, sharing that memory. The built-in module imports the
 * custom ops' functions (`env.custom_<op>`): the user's export where given,
 * else a stub that throws (plans only use those op codes for custom ops).
 */
export async function instantiateKernelsWith(
  variant: WasmVariant,
  custom: Partial<Record<CustomWasmOp, CustomWasmKernel>> = {},
  threads = false,
): Promise<{ exports: KernelExports; custom: Partial<Record<CustomWasmOp, KernelFn>>; module: WebAssembly.Module }> {
  // The threads build imports a shared memory (its workers instantiate the same module against it).
  const memory = threads
    ? new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: SHARED_MAX_PAGES, shared: true })
    : new WebAssembly.Memory({ initial: INITIAL_PAGES });
  const fns: Partial<Record<CustomWasmOp, KernelFn>> = {};
  const env: Record<string, WebAssembly.ImportValue> = {
    memory,
    abort: () => { throw new Error('wasm kernels aborted'); },
  };
  for (const op of CUSTOM_WASM_OPS) {
    const k = custom[op];
    if (k) {
      // src/custom/assemblyscript.ts compiles the user's file as 'tessera-kernel.ts': show the user's name.
      const where = (f: string) => (!f || f === 'tessera-kernel.ts' ? k.label : f);
      const abort = (msg: number, file: number, line: number, col: number) => {
        const text = readAsString(memory, msg);
        // A user's mistake: the CLI prints the message without a stack trace.
        throw Object.assign(new Error(`custom ${op} kernel ${k.label} aborted${text ? `: ${text}` : ''} (${where(readAsString(memory, file))}:${line}:${col})`), { isUserError: true });
      };
      const inst = await WebAssembly.instantiate(k.module, { env: { memory, abort } });
      const fn = inst.exports[k.exportName];
      if (typeof fn !== 'function') throw new Error(`${k.label} exports no function '${k.exportName}'`);
      fns[op] = fn as KernelFn;
    }
    env[`custom_${op}`] = fns[op] ?? (() => { throw new Error(`the wasm plan called a custom ${op} kernel, but none was given`); });
  }
  const module = await WebAssembly.compile(kernelBytes(variant, threads) as BufferSource);
  const instance = await WebAssembly.instantiate(module, { env });
  const k = instance.exports as unknown as KernelExports;
  k._initialize?.();
  return { exports: k, custom: fns, module };
}

/** Instantiates one variant of the kernels with its own memory (no custom kernels). */
export async function instantiateKernels(variant: WasmVariant): Promise<KernelExports> {
  return (await instantiateKernelsWith(variant)).exports;
}

const PAGE = 65536;

/** A bump allocator over the module's memory: everything is allocated once. */
export class Heap {
  private top: number;
  constructor(readonly k: KernelExports, align = 64) {
    this.top = Math.ceil(k.heapBase() / align) * align;
  }

  /** Bytes in use. */
  get used(): number {
    return this.top;
  }

  alloc(bytes: number, align = 64): number {
    const ptr = Math.ceil(this.top / align) * align;
    const end = ptr + Math.max(bytes, 0);
    const have = this.k.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      try {
        this.k.memory.grow(pages);
      } catch (e) {
        throw new Error(`wasm backend: cannot grow memory to ${((have + pages * PAGE) / 2 ** 20).toFixed(0)} MiB (${(e as Error).message})`);
      }
    }
    this.top = end;
    return ptr;
  }

  // Views are made on demand: growing the memory detaches older ones.
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }
  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.k.memory.buffer, ptr, n);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.k.memory.buffer, ptr, n);
  }
  u32(ptr: number, n: number): Uint32Array {
    return new Uint32Array(this.k.memory.buffer, ptr, n);
  }
  u8(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, ptr, n);
  }
}
