// WebGPU errors turned into plain Errors that name the kernel. Every Tessera
// pipeline and bind group is labelled `kernel:<name>` (plus the layer), and
// Dawn quotes labels in its messages, so a validation error raised anywhere
// in a command buffer can be traced to the kernel that caused it.

export type ScopeFilter = 'validation' | 'out-of-memory' | 'internal';

export class WebGpuError extends Error {
  constructor(message: string, readonly kernel?: string) {
    super(message);
    this.name = 'WebGpuError';
  }
}

/** The Tessera kernel a WebGPU error message mentions (through a `kernel:<name>` label), if any. */
export function kernelOf(message: string): string | undefined {
  return /kernel:([A-Za-z0-9_]+)/.exec(message)?.[1];
}

export function kernelLabel(kernel: string, detail?: string): string {
  return detail ? `kernel:${kernel} ${detail}` : `kernel:${kernel}`;
}

/** "WebGPU validation error in kernel dense_forward: …" (or "… in <what>: …" when no kernel is named). */
export function describeGpuError(kind: string, message: string, what: string, kernel = kernelOf(message)): WebGpuError {
  const where = kernel ? `kernel ${kernel}` : what;
  return new WebGpuError(`WebGPU ${kind} error in ${where}: ${message.trim()}`, kernel);
}

const FILTERS: ScopeFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Run `fn` inside validation, out-of-memory and internal error scopes and
 * throw the first error they caught, naming the kernel. `fn` may be async
 * (e.g. createComputePipelineAsync).
 */
export async function withErrorScopes<T>(device: GPUDevice, what: string, fn: () => T | Promise<T>, kernel?: string): Promise<T> {
  for (const f of FILTERS) device.pushErrorScope(f);
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
  }
  // Pop in reverse order of pushing.
  const errors: (GPUError | null)[] = [];
  for (let i = FILTERS.length - 1; i >= 0; i--) errors[i] = await device.popErrorScope();
  for (let i = 0; i < FILTERS.length; i++) {
    const e = errors[i];
    if (e) throw describeGpuError(FILTERS[i], e.message, what, kernel ?? kernelOf(e.message));
  }
  if (thrown !== undefined) {
    const msg = thrown instanceof Error ? thrown.message : String(thrown);
    if (thrown instanceof WebGpuError) throw thrown;
    throw describeGpuError('pipeline', msg, what, kernel ?? kernelOf(msg));
  }
  return result as T;
}
