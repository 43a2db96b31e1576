#!/usr/bin/env node
// Runs the compiled CLI (`npm run build` writes lib/).
import { run } from '../lib/cli/main.js';

process.exitCode = await run(process.argv.slice(2));
