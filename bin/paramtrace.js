#!/usr/bin/env node
// Runs the bundled CLI (`npm run build` writes lib/: scripts/build-cli.ts).
import { run } from '../lib/cli.js';

process.exitCode = await run(process.argv.slice(2));
