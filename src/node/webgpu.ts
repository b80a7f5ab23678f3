// Node only: acquire a WebGPU `GPU` from Dawn (the `webgpu` npm package).
//
// On a machine without a GPU, Dawn finds Mesa's software rasterizer through
// EGL (Debian: libegl1 libegl-mesa0 libgles2; DESIGN.md "Node and browser"):
// `create(['backend=opengles'])` with EGL_PLATFORM=surfaceless and
// requestAdapter({featureLevel: 'compatibility'}) gives llvmpipe. Dawn's
// Vulkan backend rejects lavapipe (Mesa 22.3: "Vulkan
// shaderUniform*ArrayDynamicIndexing required"), so Vulkan is tried only
// after OpenGL ES finds nothing (a machine with a real GPU and no EGL), or
// first when TESSERA_DAWN_BACKEND=vulkan (or any Dawn backend name) says so.
//
//   const r = await requestNodeGpu();
//   if (r.gpu) backend = await WebGpuBackend.create(r.gpu, { adapter: r.adapter, backendLabel: r.backend, featureLevel: r.featureLevel });
// (An adapter makes one device; for a second backend omit `adapter` and
// the backend requests a fresh one from the same GPU.)
//   else console.log(`no WebGPU: ${r.reason}`);

export interface NodeGpu {
  gpu: GPU;
  adapter: GPUAdapter;
  adapterInfo: GPUAdapterInfo;
  /** The Dawn backend that produced the adapter, e.g. "Dawn opengles backend". */
  backend: string;
  featureLevel: 'core' | 'compatibility';
}

export type NodeGpuResult = NodeGpu | { gpu: null; reason: string };

// Dawn's GPU objects must outlive every device made from them: keep them
// until releaseNodeGpu says no device will be made.
const keep = new Set<GPU>();

interface Attempt { flags: string[]; featureLevel: 'core' | 'compatibility'; name: string }

function attempts(): Attempt[] {
  const forced = process.env.TESSERA_DAWN_BACKEND?.trim();
  if (forced) {
    return [
      { flags: [`backend=${forced}`], featureLevel: 'core', name: forced },
      { flags: [`backend=${forced}`], featureLevel: 'compatibility', name: forced },
    ];
  }
  return [
    { flags: ['backend=opengles'], featureLevel: 'compatibility', name: 'opengles' },
    { flags: ['backend=vulkan'], featureLevel: 'core', name: 'vulkan' },
  ];
}

/**
 * Find a WebGPU adapter through Dawn. Never throws: when there is none, says
 * why (package missing, no driver, …).
 */
export async function requestNodeGpu(): Promise<NodeGpuResult> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch (e) {
    return { gpu: null, reason: `the 'webgpu' package (Dawn) could not be loaded: ${(e as Error).message}` };
  }
  // GPUBufferUsage, GPUShaderStage, GPUMapMode … as globals, as in a browser.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const tried: string[] = [];
  for (const a of attempts()) {
    try {
      const gpu = mod.create(a.flags);
      const adapter = await gpu.requestAdapter({ featureLevel: a.featureLevel });
      if (adapter) {
        keep.add(gpu);
        return { gpu, adapter, adapterInfo: adapter.info, backend: `Dawn ${a.name} backend`, featureLevel: a.featureLevel };
      }
      tried.push(`${a.name}/${a.featureLevel}: no adapter`);
    } catch (e) {
      // Dawn's messages span several lines; the reason is printed as one.
      tried.push(`${a.name}/${a.featureLevel}: ${(e as Error).message.replace(/\s+/g, ' ').trim()}`);
    }
  }
  return {
    gpu: null,
    reason: `Dawn found no WebGPU adapter (${tried.join('; ')}). On a machine without a GPU install Mesa's drivers: apt-get install libvulkan1 mesa-vulkan-drivers libegl1 libegl-mesa0 libgles2`,
  };
}

/**
 * Forget a GPU that no device was made from (e.g. `backend: auto` judged its
 * adapter software and took wasm), so that nothing of Dawn's is referenced
 * any more: a live Dawn instance can keep the process from exiting
 * (https://issues.chromium.org/issues/387965810).
 */
export function releaseNodeGpu(gpu: GPU): void {
  keep.delete(gpu);
}
