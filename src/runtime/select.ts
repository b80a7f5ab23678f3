// Choosing a backend by name: 'js', 'wasm', 'webgpu', or 'auto', with a
// one-line reason that a CLI or page can show. Browser-safe: no Node imports.
//
// 'auto' ranks: a hardware WebGPU adapter, then wasm, then js. A software
// adapter (Mesa's llvmpipe or lavapipe, SwiftShader, WARP, anything that
// says it is a CPU or a fallback adapter) is never auto's pick: on a 2-core
// machine the flagship model trained 9–60× slower on llvmpipe than on wasm
// (README "Backends"), and within 2× of js either way, which opens no GPU
// device. It stays available by name (`--backend webgpu`). The adapter is judged from its info before any
// device is requested, so choosing wasm never opens a GPU device.
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
  /**
   * The adapter `gpu` will use, when the caller already has one (Node: the
   * one requestNodeGpu found). Without it, 'auto' requests an adapter of its
   * own to look at (no device), as the webgpu factory will.
   */
  adapter?: AdapterFacts | null;
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

/** The parts of a GPUAdapterInfo that tell a software adapter; every field is optional so tests can fake one. */
export interface AdapterInfoFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  /** Native WebGPU reports the kind of device (Dawn's adapterType, wgpu's device_type, e.g. 'cpu'); browsers do not expose it today. */
  adapterType?: string;
  deviceType?: string;
}

/** What 'auto' reads of an adapter: a GPUAdapter fits. */
export interface AdapterFacts {
  info?: AdapterInfoFacts;
  /** Browsers before GPUAdapterInfo.isFallbackAdapter had the flag on the adapter. */
  isFallbackAdapter?: boolean;
}

// Names that software WebGPU adapters report in their info: Mesa's
// llvmpipe (OpenGL ES, and "llvmpipe (LLVM …)" under lavapipe), lavapipe,
// softpipe, Chromium's SwiftShader, Windows' WARP ("Microsoft Basic Render
// Driver").
const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|software (?:rasteri[sz]er|renderer)/i;

/**
 * Why this adapter is software (and so 'auto' should not take it), or null
 * for a hardware GPU. E.g. "webgpu adapter is a software rasteriser
 * (llvmpipe-llvm-15-0-6-256-bits-; OpenGL version OpenGL ES 3.2 Mesa 22.3.6)".
 */
export function isSoftwareAdapter(adapter: AdapterFacts | null | undefined): string | null {
  if (!adapter) return null;
  const info = adapter.info ?? {};
  const words = [info.device, info.vendor, info.architecture, info.description].filter((w) => typeof w === 'string' && w.trim() !== '');
  const named = ` (${words.length ? words.join('; ') : 'no adapter info'})`;
  if (SOFTWARE_NAMES.test(words.join(' '))) return `webgpu adapter is a software rasteriser${named}`;
  const type = info.adapterType ?? info.deviceType;
  if (typeof type === 'string' && /\bcpu\b/i.test(type)) return `webgpu adapter is a CPU device${named}`;
  if (info.isFallbackAdapter === true || adapter.isFallbackAdapter === true) return `webgpu adapter is a fallback (software) adapter${named}`;
  return null;
}

/**
 * The adapter 'auto' judges: the caller's, else one requested from `gpu`
 * with the webgpu factory's default options. Null when there is none or
 * asking fails; the factory then reports the failure itself.
 */
async function adapterOf(env: BackendEnv): Promise<AdapterFacts | null> {
  if (env.adapter !== undefined) return env.adapter;
  try {
    return (await env.gpu?.requestAdapter({ featureLevel: 'compatibility' })) ?? null;
  } catch {
    return null;
  }
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
 * Create (not prepare) the backend `name`. For 'auto', tries webgpu (a
 * hardware adapter only), wasm, js in that order; `reason` says which it
 * took and why, e.g. "auto: no WebGPU (…), using wasm (SIMD128; …)" or
 * "auto: webgpu adapter is a software rasteriser (llvmpipe …), using wasm (…)".
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
    if (candidate === 'webgpu') {
      const software = isSoftwareAdapter(await adapterOf(env));
      if (software) {
        skipped.push(software);
        continue;
      }
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
