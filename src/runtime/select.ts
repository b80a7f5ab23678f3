// Choosing a backend by name: 'js', 'wasm', 'webgpu', or 'auto' (WebGPU
// when an adapter exists, else WASM, else js), with a one-line reason that
// a CLI or page can show. Browser-safe: no Node imports.
//
// The js backend is built in. The wasm and webgpu backends are plugged in
// through a registry so that this module does not import them (a page can
// ship without the code it does not use, and Node can pass Dawn's GPU):
//
//   registerBackendFactory('wasm', () => WasmBackend.create());
//   registerBackendFactory('webgpu', (env) => WebGpuBackend.create(env.gpu!));
//
// A factory throws when its backend cannot run here (no adapter, no SIMD);
// 'auto' then falls back to the next candidate and records why, while a
// backend requested by name turns that into BackendUnavailableError.

import type { Backend, BackendName } from './backend.js';
import { JsBackend } from './backends/js.js';

export type BackendRequest = BackendName | 'auto';

export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'wasm', 'js'];

export interface BackendEnv {
  /** A WebGPU entry point (navigator.gpu, or Dawn's GPU in Node); null or absent when there is none. */
  gpu?: GPU | null;
  /** Why there is no `gpu`, for the reason line (e.g. "Dawn found no adapter: …"). */
  gpuReason?: string;
  /** False to rule out wasm (e.g. a page that knows WebAssembly SIMD is missing). Default: WebAssembly exists. */
  wasmAvailable?: boolean;
}

export type BackendFactory = (env: BackendEnv) => Promise<Backend>;

/** Registered factories by backend name ('js' is always there). */
export const BACKEND_FACTORIES = new Map<BackendName, BackendFactory>([['js', async () => new JsBackend()]]);

export function registerBackendFactory(name: BackendName, factory: BackendFactory): void {
  BACKEND_FACTORIES.set(name, factory);
}

/** A backend that was asked for by name and cannot run here. */
export class BackendUnavailableError extends Error {
  readonly backend: BackendName;
  /** The CLI prints the message alone, without a stack trace. */
  readonly isUserError = true;
  constructor(backend: BackendName, why: string) {
    super(`backend '${backend}' is not available: ${why}`);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
  }
}

export function isBackendRequest(name: string): name is BackendRequest {
  return name === 'auto' || (BACKEND_NAMES as readonly string[]).includes(name);
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Why `name` cannot even be tried here, or null if its factory may be called. */
function precheck(name: BackendName, env: BackendEnv): string | null {
  if (!BACKEND_FACTORIES.has(name)) return `the ${name} backend is not part of this build`;
  if (name === 'webgpu' && !env.gpu) return env.gpuReason ?? 'no WebGPU in this environment';
  if (name === 'wasm') {
    if (env.wasmAvailable === false) return 'WebAssembly SIMD is not available here';
    if (typeof WebAssembly === 'undefined') return 'no WebAssembly in this environment';
  }
  return null;
}

/**
 * Create (not prepare) the backend `name`. For 'auto', tries webgpu, wasm,
 * js in that order; `reason` says which it took and why, e.g.
 * "auto: no WebGPU adapter (…), using wasm (SIMD128; …)".
 */
export async function createBackend(name: BackendRequest, env: BackendEnv = {}): Promise<{ backend: Backend; reason: string }> {
  if (name !== 'auto') {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new BackendUnavailableError(name as BackendName, `unknown backend; expected one of auto, ${BACKEND_NAMES.join(', ')}`);
    }
    const why = precheck(name, env);
    if (why) throw new BackendUnavailableError(name, why);
    try {
      const backend = await BACKEND_FACTORIES.get(name)!(env);
      return { backend, reason: `requested ${name}` };
    } catch (e) {
      throw new BackendUnavailableError(name, firstLine(e));
    }
  }
  const skipped: string[] = [];
  for (const candidate of BACKEND_NAMES) {
    const why = precheck(candidate, env);
    if (why) {
      skipped.push(`${label(candidate)} (${why})`);
      continue;
    }
    try {
      const backend = await BACKEND_FACTORIES.get(candidate)!(env);
      const because = skipped.length ? `${skipped.join(', ')}, ` : '';
      return { backend, reason: `auto: ${because}using ${backend.description}` };
    } catch (e) {
      skipped.push(`${label(candidate)} (${firstLine(e)})`);
    }
  }
  // Unreachable while js is registered, but a build could unregister it.
  throw new BackendUnavailableError('js', `auto found no usable backend: ${skipped.join(', ')}`);
}

function label(name: BackendName): string {
  return name === 'webgpu' ? 'no WebGPU' : name === 'wasm' ? 'no wasm' : 'no js';
}
