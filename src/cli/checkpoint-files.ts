// The files `tessera train` writes and reads for resuming: where Ctrl-C's
// checkpoint goes, the command that continues from it, and the writer that
// model_checkpoint's files go through (atomic: a temporary file, then a
// rename). The checkpoint format is src/runtime/checkpoint.ts.

import { basename, extname } from 'node:path';
import { writeFileAtomic } from '../data/weights-node.js';

export { writeFileAtomic };

/** Where Ctrl-C writes its checkpoint: the --save file (a checkpoint is also a weights file), else `<model file stem>.interrupted.safetensors` here. */
export function interruptCheckpointPath(modelFile: string, save: string | undefined): string {
  return save ?? `${basename(modelFile, extname(modelFile))}.interrupted.safetensors`;
}

const quote = (a: string) => (/^[\w./:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** `tessera train <args> --resume <path>`: the run's own arguments (an earlier --resume replaced), for people to copy. */
export function resumeCommand(args: readonly string[], path: string): string {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--resume') { i++; continue; }
    if (a.startsWith('--resume=')) continue;
    kept.push(a);
  }
  return ['tessera', 'train', ...kept, '--resume', path].map(quote).join(' ');
}
