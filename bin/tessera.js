#!/usr/bin/env node
// The `tessera` command: runs the compiled CLI from dist/ (built by `npm ci`
// through the package's `prepare` script).
import { main } from '../dist/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
