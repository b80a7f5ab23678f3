// The model file's `kernels:` block, checked against the op registry: the
// schema on disk accepts any key (so editors do not flag a valid op the
// JSON does not list), and the schema Tessera validates with lists exactly
// the ops a user's kernel may replace (src/ops: those with a contract), so
// an unknown name is an unknown key at its line and column, with a
// did-you-mean. Whether each file exists needs a file system: the Node
// loader passes a probe (load-file.ts). Browser-safe.

import { replaceableOps } from '../ops/index.js';
import type { ConfigError, ConfigErrorCode } from './errors.js';
import type { Target } from './locate.js';

type Json = Record<string, unknown>;

/** The op names a `kernels:` block accepts: every op with a custom-kernel contract, in registry order. */
export function kernelOpNames(): string[] {
  return replaceableOps().map((d) => d.kind);
}

/** The schema with the `kernels:` block closed over the registry's replaceable ops (each described by its summary). */
export function withRegistryKernels(schema: Json): Json {
  const props = schema.properties as Json;
  const block = props.kernels as Json;
  const value = block.additionalProperties as Json;
  const properties = Object.fromEntries(replaceableOps().map((d) => [d.kind, { ...value, description: `${d.summary}. ${String(value.description ?? '')}`.trim() }]));
  return { ...schema, properties: { ...props, kernels: { ...block, properties, additionalProperties: false } } };
}

/** How validateModelConfig reports a problem at a path of the document. */
export type Report = (path: (string | number)[], target: Target, code: ConfigErrorCode, message: string, hint?: string) => ConfigError;

const KERNEL_FILE = /\.(wgsl|ts)$/i;

/**
 * Problems with the files a valid `kernels:` block names, at each entry's
 * value: not a .wgsl or .ts file, or (with `exists`) not there.
 */
export function kernelFileErrors(kernels: Record<string, string> | undefined, report: Report, exists?: (path: string) => boolean): ConfigError[] {
  const out: ConfigError[] = [];
  for (const [op, file] of Object.entries(kernels ?? {})) {
    const path = ['kernels', op];
    if (!KERNEL_FILE.test(file)) {
      out.push(report(path, 'value', 'schema', `the custom ${op} kernel '${file}' is neither a .wgsl file (webgpu backend) nor an AssemblyScript .ts file (wasm backend)`, 'see docs/kernels.md'));
    } else if (exists && !exists(file)) {
      out.push(report(path, 'value', 'file', `the custom ${op} kernel '${file}' does not exist`, 'paths in kernels: are relative to the model file'));
    }
  }
  return out;
}
