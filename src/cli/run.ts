// Runs the CLI from source through tsx (`node --import tsx src/cli/run.ts ...`),
// for tests and development; the installed `tessera` command is bin/tessera.js,
// which runs the compiled dist/cli/main.js.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
