// The js backend's op runner: the op's registered reference implementation
// (what the js backend runs), on copies of the instance's buffers. Its
// outputs *are* the reference's, so bench reports them as the reference and
// does not check them against it (test/bench.test.ts checks the reference
// against independent float64 formulas instead).

import { opDef } from '../ops/index.js';
import { instanceBuffers, outputsOf, runReference, type OpCase, type OpData } from './ops.js';
import type { OpRunner, PreparedKernel } from './runner.js';
import { timeSync } from './stats.js';

export class JsOpRunner implements OpRunner {
  readonly backend = 'js' as const;
  readonly description = 'js (TypeScript reference kernels, single thread)';

  supports(): boolean {
    return true;
  }

  async prepare(c: OpCase, data: OpData): Promise<PreparedKernel> {
    const def = opDef(c.op);
    const inst = data.instance;
    const buffers = instanceBuffers(inst);
    let scalars: Record<string, number> | undefined;
    const run = () => { scalars = runReference(def, inst, buffers); };
    return {
      isReference: true,
      check: async () => {
        run();
        return { arrays: outputsOf(inst, (name, n) => buffers[name]!.slice(0, n)), scalars };
      },
      time: (o) => timeSync(run, o),
      dispose: () => {},
    };
  }

  dispose(): void {}
}
