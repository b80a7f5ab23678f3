// Runs the `tessera` command from source (src/cli/run.ts through tsx), as
// the CLI suites do. NO_COLOR keeps the output plain for matching.

import { execFile } from 'node:child_process';

export interface Run { code: number; stdout: string; stderr: string }

/** Node arguments that start the CLI from source; append the command's own. */
export const CLI_ARGS = ['--import', 'tsx', 'src/cli/run.ts'];
export const CLI_ENV = { ...process.env, NO_COLOR: '1' };

/** `tessera ...args` with extra environment variables. */
export function tesseraWithEnv(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI_ARGS, ...args], { env: { ...CLI_ENV, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `tessera ...args`. */
export function tessera(...args: string[]): Promise<Run> {
  return tesseraWithEnv({}, ...args);
}
