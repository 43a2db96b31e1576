// Bundles the CLI for the npm package into lib/ (`npm run build`; bin/paramtrace.js imports lib/cli.js):
// lib/cli.js (src/cli/main.ts), lib/trace-worker.js, and the chunks they share, code-split so that the
// CLI's small entry can start the trace worker before the rest loads. One bundle starts faster than the
// compiled modules one by one (tens of files, and protobufjs's from node_modules). onnxruntime-node
// stays external: it is a dependency of the package, with its native binding. `npm run bench` measures
// this same build.
//
//   npx tsx scripts/build-cli.ts [OUTDIR]    (default lib/)
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Writes the CLI bundle to `outdir` (emptied first); returns the entry's path. */
export async function buildCli(outdir: string): Promise<string> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: { cli: 'src/cli/main.ts', 'trace-worker': 'src/trace/trace-worker.ts' },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['onnxruntime-node'],
    logLevel: 'warning',
    // ESM output: some bundled CommonJS packages call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __paramtraceCreateRequire } from 'node:module';\nconst require = __paramtraceCreateRequire(import.meta.url);",
    },
  });
  return path.join(outdir, 'cli.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = path.resolve(ROOT, process.argv[2] ?? 'lib');
  console.log(`wrote ${path.relative(ROOT, await buildCli(outdir)) || outdir}`);
}
