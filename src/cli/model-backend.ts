// The backend for a model file, as train, eval and predict all need it: the
// model file's custom kernels (`kernels:`) are loaded, handed to the backend
// they are written for, and checked against the reference at the model's
// shapes before anything runs with them. Node's half of building a Model:
// Model.plan gives the graph, this the backend, Model.open joins them.

import { isAsKernel, toCustomWasmKernel, type AsKernel } from '../custom/as-contract.js';
import { verifyCustomKernels, verifyCustomWasmKernels } from '../custom/check.js';
import { loadCustomKernels, type LoadedKernel } from '../custom/load-node.js';
import { toCustomKernel, type WgslKernel } from '../custom/wgsl.js';
import { createNodeBackend } from '../node-backends.js';
import type { Backend } from '../runtime/backend.js';
import { WasmBackend, type WasmBackendOptions } from '../runtime/backends/wasm.js';
import { WebGpuBackend, type WebGpuBackendOptions } from '../runtime/backends/webgpu.js';
import type { Graph } from '../runtime/graph.js';
import type { ModelPlan } from '../runtime/model.js';
import type { BackendRequest } from '../runtime/select.js';
import { applyTestHooks, workerFaultHook } from './test-hooks.js';
import { UserError } from './user-error.js';

/** The model file's WGSL kernels (webgpu backend) and AssemblyScript kernels (wasm backend). */
function splitKernels(custom: Record<string, LoadedKernel>): { wgsl: Record<string, WgslKernel>; as: Record<string, AsKernel> } {
  const entries = Object.entries(custom);
  return {
    wgsl: Object.fromEntries(entries.filter((e): e is [string, WgslKernel] => !isAsKernel(e[1]))),
    as: Object.fromEntries(entries.filter((e): e is [string, AsKernel] => isAsKernel(e[1]))),
  };
}

/** The model file's custom kernels as the webgpu and wasm backends take them. */
function backendKernels(custom: Record<string, LoadedKernel>): { webgpu: WebGpuBackendOptions['customKernels']; wasm: WasmBackendOptions['customKernels'] } {
  const { wgsl, as } = splitKernels(custom);
  return {
    webgpu: Object.fromEntries(Object.entries(wgsl).map(([op, k]) => [op, toCustomKernel(k)])),
    wasm: Object.fromEntries(Object.entries(as).map(([op, k]) => [op, toCustomWasmKernel(k)])),
  };
}

/**
 * Custom kernels are checked against the reference at the model's shapes on
 * the training backend (device, or wasm build) before they are trusted; a
 * wrong one stops the run. Kernels for another backend do not apply, and a
 * note says so. Returns lines for the header.
 */
async function checkCustomKernels(backend: Backend, graph: Graph, custom: Record<string, LoadedKernel>): Promise<string[]> {
  if (Object.keys(custom).length === 0) return [];
  const { wgsl, as } = splitKernels(custom);
  const list = (ks: Record<string, { file: string }>) => Object.entries(ks).map(([op, k]) => `${op}: ${k.file}`).join(', ');
  const mine = backend instanceof WebGpuBackend ? wgsl : backend instanceof WasmBackend ? as : {};
  const notes: string[] = [];
  if (Object.keys(wgsl).length && !(backend instanceof WebGpuBackend)) notes.push(`the model file's custom kernels (${list(wgsl)}) are WGSL and run on the webgpu backend only; ${backend.name} uses its built-in kernels for them`);
  if (Object.keys(as).length && !(backend instanceof WasmBackend)) notes.push(`the model file's custom kernels (${list(as)}) are AssemblyScript and run on the wasm backend only; ${backend.name} uses its built-in kernels for them`);
  for (const n of notes) process.stderr.write(`note: ${n}\n`);
  if (Object.keys(mine).length === 0) return [];
  const check = backend instanceof WebGpuBackend
    ? await verifyCustomKernels(backend.device, graph, wgsl)
    : await verifyCustomWasmKernels(graph, as, (backend as WasmBackend).variant);
  if (!check.ok) throw new UserError(`${check.lines.join('\n')}\nFix the kernel (tessera bench --kernel OP=FILE shows the check), or remove it from the model file's kernels:.`);
  return check.lines;
}

/**
 * Create (not prepare) the backend `name` for a model plan, with the model
 * file's custom kernels, checked at the plan's shapes. The command hands it
 * to Model.open. `kernelLines` say which custom kernels are in use (for a
 * header); the backend is disposed if the check fails.
 */
export async function createModelBackend(
  plan: ModelPlan, name: BackendRequest, threads: { threads: number | 'auto'; source: string } = { threads: plan.spec.threads ?? 'auto', source: 'the model file' },
): Promise<{ backend: Backend; reason: string; kernelLines: string[] }> {
  const custom = await loadCustomKernels(plan.spec.kernels);
  const kernels = backendKernels(custom);
  const wasm: WasmBackendOptions = { customKernels: kernels.wasm, threads: threads.threads, threadsSource: threads.source, threadFault: workerFaultHook() };
  const { backend, reason } = await createNodeBackend(name, { customKernels: kernels.webgpu }, wasm);
  applyTestHooks(backend);
  try {
    return { backend, reason, kernelLines: await checkCustomKernels(backend, plan.graph, custom) };
  } catch (e) {
    backend.dispose();
    throw e;
  }
}
