// Every subcommand of `tessera`, in the order `tessera --help` lists them.
// To add one: create src/cli/commands/<name>.ts exporting a Command, then
// add one import and one array entry here.

import type { Command } from '../command.js';
import { validate } from './validate.js';
import { train } from './train.js';
import { evalCommand } from './eval.js';
import { predictCommand } from './predict.js';
import { benchCommand } from './bench.js';
import { exportCommand } from './export.js';
import { generateCommand } from './generate.js';

export const COMMANDS: readonly Command[] = [
  validate,
  train,
  evalCommand,
  predictCommand,
  exportCommand,
  generateCommand,
  benchCommand,
];
