// Bundles the GitHub Action into dist/: dist/index.js (src/action/main.ts) and, when the trace stage is
// there, dist/trace-worker.js (src/trace/trace-worker.ts), plus dist/package.json (ESM) and
// dist/licenses.txt (the licenses of the bundled packages). Same sources and lockfile → same bytes.
//
//   node scripts/build-dist.mjs                 write dist/
//   node scripts/build-dist.mjs --check         exit 1 when dist/ differs from a fresh build
//   node scripts/build-dist.mjs --outdir DIR    write somewhere else (tests)
//
// onnxruntime-node is not bundled (native binding, CUDA provider downloaded at install): imports of it
// load the copy the action installs at run time (PARAMTRACE_ONNXRUNTIME_DIR, see
// src/action/models/install-runtime.ts), or whatever `require` finds next to dist/ when that is unset.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const outIndex = args.indexOf('--outdir');
const outdir = path.resolve(root, outIndex >= 0 ? args[outIndex + 1] : 'dist');

const entries = { index: 'src/action/main.ts' };
if (existsSync(path.join(root, 'src/trace/trace-worker.ts')))
  entries['trace-worker'] = 'src/trace/trace-worker.ts';

const ORT_SHIM = `
const { createRequire } = require('node:module');
const { join } = require('node:path');
const dir = process.env.PARAMTRACE_ONNXRUNTIME_DIR;
try {
  module.exports = dir ? createRequire(join(dir, 'package.json'))('onnxruntime-node') : require('onnxruntime-node');
} catch (error) {
  throw new Error('onnxruntime-node could not be loaded' + (dir ? ' from ' + dir : '') + ': ' + error.message +
    ' (the action installs it into the tool cache when it traces: src/action/models/install-runtime.ts)');
}
`;

/** Routes `onnxruntime-node` through the shim above; the shim's own require of it stays external. */
const onnxruntimeShim = {
  name: 'onnxruntime-shim',
  setup(b) {
    b.onResolve({ filter: /^onnxruntime-node$/ }, (a) =>
      a.namespace === 'paramtrace-ort'
        ? { path: a.path, external: true }
        : { path: 'onnxruntime-node', namespace: 'paramtrace-ort' },
    );
    b.onLoad({ filter: /.*/, namespace: 'paramtrace-ort' }, () => ({
      contents: ORT_SHIM,
      loader: 'js',
      resolveDir: root,
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: entries,
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  write: false,
  metafile: true,
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  plugins: [onnxruntimeShim],
  // ESM output: some bundled CommonJS packages call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __paramtraceCreateRequire } from 'node:module';\nconst require = __paramtraceCreateRequire(import.meta.url);",
  },
});

/** name@version, license, and license text of every package that went into the bundle. */
function licenses(metafile) {
  const packages = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m && !packages.has(m[1])) packages.set(m[1], null);
  }
  const blocks = [];
  for (const dir of [...packages.keys()].sort()) {
    const pkg = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
    const file = readdirSync(path.join(root, dir))
      .sort()
      .find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
    const text = file
      ? readFileSync(path.join(root, dir, file), 'utf8').trim()
      : '(no license file in the package)';
    blocks.push(`${pkg.name}@${pkg.version} (${pkg.license ?? 'unknown license'})\n\n${text}\n`);
  }
  return `Third-party packages bundled into dist/ by scripts/build-dist.mjs\n\n${blocks.join('\n' + '-'.repeat(78) + '\n\n')}`;
}

const files = new Map(
  result.outputFiles.map((f) => [path.relative(outdir, f.path), Buffer.from(f.contents)]),
);
files.set('package.json', Buffer.from('{\n  "type": "module"\n}\n'));
files.set('licenses.txt', Buffer.from(licenses(result.metafile)));

if (check) {
  const stale = [];
  for (const [name, bytes] of files) {
    const existing = path.join(outdir, name);
    if (!existsSync(existing) || !readFileSync(existing).equals(bytes)) stale.push(name);
  }
  const extra = existsSync(outdir) ? readdirSync(outdir).filter((f) => !files.has(f)) : [];
  if (stale.length > 0 || extra.length > 0) {
    console.error(
      `dist/ is stale: ${[...stale, ...extra.map((f) => `${f} (not built)`)].join(', ')}.\nRun \`npm run build:dist\` and commit dist/.`,
    );
    process.exit(1);
  }
  console.log(`dist/ is up to date (${files.size} files)`);
} else {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(path.join(outdir, name), bytes);
  console.log(
    `wrote ${[...files.keys()].map((f) => path.join(path.relative(root, outdir) || '.', f)).join(', ')}`,
  );
}
