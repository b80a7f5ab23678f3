// The WGSL kernels of kernels/wgsl as compute pipelines. Browser-safe.
//
// Every kernel source is compiled with the shared prelude (kernels/wgsl/
// prelude.wgsl: the per-step context struct at group 0 binding 0, the
// counter RNG, flat_index) prepended — WGSL has no includes, so the
// concatenation in `kernelSource` is the whole "linker". A kernel that shares
// more with its siblings names shared parts (kernels/wgsl/parts/<name>.wgsl)
// in a line `// uses: name, name` of its opening contract comment; they are
// pasted between the prelude and the kernel, once each, in that order. A part
// is not a kernel (no entry point, no bindings of its own: it may refer to a
// binding or override the using kernel declares, as WGSL module-scope names
// may be used before their declaration) and cannot use other parts. Bindings 1… of each
// kernel are storage buffers whose access (read-only or read-write) is listed
// in KERNEL_BINDINGS; the layouts are explicit so binding 0 can take a
// dynamic offset (one 256-byte context record per step).
//
// Shapes and flags are pipeline-overridable constants, so each op of a model
// gets a pipeline specialised to its K and N, created once per model.

import { WGSL_PARTS, WGSL_SOURCES } from '../../generated/kernels.js';
import { OPS } from '../../ops/index.js';
import type { Access, Constants } from '../../ops/types.js';
import { kernelLabel, withErrorScopes } from './errors.js';

export type { Access, Constants } from '../../ops/types.js';


/** Storage bindings 1, 2, … of each kernel (binding 0 is always the context uniform), from the ops that use them. */
export const KERNEL_BINDINGS: Readonly<Record<string, readonly Access[]>> = kernelBindings();

function kernelBindings(): Record<string, readonly Access[]> {
  const out: Record<string, readonly Access[]> = {};
  for (const def of OPS) {
    for (const [kernel, bindings] of Object.entries(def.webgpu.kernels)) {
      const had = out[kernel];
      if (had && had.join() !== bindings.join()) throw new Error(`ops declare kernel ${kernel} with different bindings`);
      out[kernel] = bindings;
    }
  }
  return out;
}

/** A kernel (file in kernels/wgsl) that some registered op uses. */
export type KernelName = string;

/** Bytes per context record; a multiple of the default minUniformBufferOffsetAlignment (256). */
export const CTX_STRIDE = 256;
/** Bytes of the context struct the kernels read. */
export const CTX_BYTES = 96;
/** Dropout layers whose keys fit in one context record. */
export const MAX_DROPOUT_KEYS = 16;

/** A line `// uses: a, b` naming the shared parts (kernels/wgsl/parts) a WGSL file pulls in. */
const USES_LINE = /^\/\/ uses:(.*)$/gm;

/** The parts a WGSL source names in its `// uses:` lines, in order, each once. */
export function partsUsed(source: string): string[] {
  const names = [...source.matchAll(USES_LINE)].flatMap((m) => m[1]!.split(/[\s,]+/).filter(Boolean));
  return [...new Set(names)];
}

/** The full WGSL of a kernel: the prelude, the parts it uses (each followed by a newline), then the kernel's own file. */
export function kernelSource(name: string, sources: Readonly<Record<string, string>> = WGSL_SOURCES, parts: Readonly<Record<string, string>> = WGSL_PARTS): string {
  const prelude = sources.prelude;
  const body = sources[name];
  if (prelude === undefined || body === undefined) {
    throw new Error(`WGSL kernel '${name}' is not built into src/generated/kernels.ts (run \`node scripts/build.mjs kernels\`)`);
  }
  const used = partsUsed(body).map((part) => {
    const text = parts[part];
    if (text === undefined) throw new Error(`WGSL kernel '${name}' uses part '${part}', which is not built into src/generated/kernels.ts (kernels/wgsl/parts/${part}.wgsl; run \`node scripts/build.mjs kernels\`)`);
    if (partsUsed(text).length) throw new Error(`WGSL part '${part}' has a '// uses:' line; parts cannot use other parts (name them in the kernel)`);
    return `${text}\n`;
  });
  return `${prelude}\n${used.join('')}${body}`;
}

/** One context record (per step or per evaluation batch), written into a chunk's upload. */
export interface CtxRecord {
  offset: number;
  rows: number;
  step: number;
  alpha: number;
  invRows: number;
  /** The step's learning rate (0 in evaluation). */
  lr?: number;
  keys?: ArrayLike<number>;
}

export function writeCtx(view: DataView, index: number, r: CtxRecord): void {
  const o = index * CTX_STRIDE;
  view.setUint32(o, r.offset >>> 0, true);
  view.setUint32(o + 4, r.rows >>> 0, true);
  view.setUint32(o + 8, r.step >>> 0, true);
  view.setUint32(o + 12, 0, true);
  view.setFloat32(o + 16, r.alpha, true);
  view.setFloat32(o + 20, r.invRows, true);
  view.setFloat32(o + 24, r.lr ?? 0, true);
  if (r.keys) for (let i = 0; i < r.keys.length; i++) view.setUint32(o + 32 + 4 * i, r.keys[i] >>> 0, true);
}


/** Pipelines, layouts and bind groups of the Tessera kernels on one device (pipelines cached by kernel + constants). */
export class KernelSet {
  private layouts = new Map<KernelName, GPUBindGroupLayout>();
  private modules = new Map<KernelName, GPUShaderModule>();
  private pipelines = new Map<string, Promise<GPUComputePipeline>>();

  constructor(readonly device: GPUDevice, private readonly sources: Readonly<Record<string, string>> = WGSL_SOURCES) {}

  layout(name: KernelName): GPUBindGroupLayout {
    let l = this.layouts.get(name);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: CTX_BYTES } },
        ...bindingsOf(name).map((a, i): GPUBindGroupLayoutEntry => ({
          binding: i + 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' },
        })),
      ];
      l = this.device.createBindGroupLayout({ label: kernelLabel(name), entries });
      this.layouts.set(name, l);
    }
    return l;
  }

  /** The kernel's pipeline for these override constants; compile errors become "WebGPU … error in kernel <name>: …". */
  pipeline(name: KernelName, constants: Constants): Promise<GPUComputePipeline> {
    const key = `${name}:${JSON.stringify(Object.entries(constants).sort(([a], [b]) => a.localeCompare(b)))}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.create(name, constants);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async create(name: KernelName, constants: Constants): Promise<GPUComputePipeline> {
    const device = this.device;
    return withErrorScopes(device, `kernel ${name}`, async () => {
      let module = this.modules.get(name);
      if (!module) {
        module = device.createShaderModule({ label: kernelLabel(name), code: kernelSource(name, this.sources) });
        this.modules.set(name, module);
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error');
        if (errors.length) {
          this.modules.delete(name);
          throw new Error(`WGSL compilation failed:\n${errors.map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`).join('\n')}`);
        }
      }
      const consts: Record<string, number> = {};
      for (const [k, v] of Object.entries(constants)) consts[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
      return device.createComputePipelineAsync({
        label: kernelLabel(name),
        layout: device.createPipelineLayout({ label: kernelLabel(name), bindGroupLayouts: [this.layout(name)] }),
        compute: { module, entryPoint: 'main', constants: consts },
      });
    }, name);
  }

  /** A bind group: binding 0 the context buffer (dynamic offset), then one buffer range per storage binding. */
  bindGroup(name: KernelName, detail: string, ctx: GPUBuffer, buffers: GPUBufferBinding[]): GPUBindGroup {
    const want = bindingsOf(name).length;
    if (buffers.length !== want) throw new Error(`kernel ${name} takes ${want} storage bindings, got ${buffers.length}`);
    return this.device.createBindGroup({
      label: kernelLabel(name, detail),
      layout: this.layout(name),
      entries: [{ binding: 0, resource: { buffer: ctx, offset: 0, size: CTX_BYTES } }, ...buffers.map((b, i) => ({ binding: i + 1, resource: b }))],
    });
  }
}

function bindingsOf(name: KernelName): readonly Access[] {
  const b = KERNEL_BINDINGS[name];
  if (!b) throw new Error(`no registered op uses a WGSL kernel named '${name}'`);
  return b;
}

export { grid1d } from '../../ops/types.js';
export { matmulDispatch, matmulWorkgroup } from '../../ops/matmul-grid.js';
