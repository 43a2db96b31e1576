// Side-by-side cost of a traced analysis against its floor, on a resnet-sized model made at bench time
// (torchvision resnet18, exported by scripts/make_trace_fixtures.py with /usr/bin/python3; nothing large
// is committed):
//   (a) a plain onnxruntime-node session create + one run, in a fresh node process;
//   (b) paramtrace's traced analysis (readModel + traceModel + analyze), in a fresh node process, as
//       shipped: bundled with esbuild, the worker as its own trace-worker.js next to it.
// Time is wall-clock from spawn to exit; peak RSS is sampled (every 10 ms) over the whole process tree,
// since (b) runs onnxruntime in a worker process.
//
//   npx tsx bench/trace.ts [--runs N] [--model file.onnx]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PYTHON = '/usr/bin/python3';

interface Measured {
  seconds: number;
  peakMb: number;
  output: string;
}

const PLAIN = `
import * as ort from 'onnxruntime-node';
const session = await ort.InferenceSession.create(process.argv[2]);
const feeds = {};
for (const m of session.inputMetadata) {
  const shape = m.shape.map((d) => (typeof d === 'number' ? d : 1));
  feeds[m.name] = new ort.Tensor(m.type, new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
}
await session.run(feeds);
await session.release();
process.exit(0);
`;

const TRACED = `
import { performance } from 'node:perf_hooks';
import { readModel } from ${JSON.stringify(path.join(ROOT, 'src/onnx/read-model.ts'))};
import { TensorReader } from ${JSON.stringify(path.join(ROOT, 'src/onnx/tensor-bytes.ts'))};
import { analyze } from ${JSON.stringify(path.join(ROOT, 'src/analysis/analyze.ts'))};
import { traceModel } from ${JSON.stringify(path.join(ROOT, 'src/trace/index.ts'))};
const t0 = performance.now();
const model = readModel(process.argv[2]);
const t1 = performance.now();
const trace = await traceModel(model, { device: 'cpu' });
const t2 = performance.now();
const content = new TensorReader(model);
const report = analyze({ model, content, trace });
content.close();
const t3 = performance.now();
console.log(JSON.stringify({ readMs: t1 - t0, traceMs: t2 - t1, analyzeMs: t3 - t2, worker: trace.timing, unique: report.counts.unique }));
`;

async function main(): Promise<void> {
  const runs = Number(argument('--runs') ?? 3);
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-bench-'));
  try {
    const model = argument('--model') ?? makeResnet(folder);
    if (!model) {
      console.log(
        `skipped: ${PYTHON} with torch and torchvision is needed to export resnet18 (or pass --model file.onnx)`,
      );
      return;
    }
    const plain = path.join(folder, 'plain.mjs');
    writeFileSync(plain, PLAIN);
    const traced = await bundle(folder);

    // One untimed run each: the model file and node's code in the page cache for both.
    await measure([plain, model]);
    await measure([traced, model]);
    const a: Measured[] = [];
    const b: Measured[] = [];
    for (let i = 0; i < runs; i++) {
      a.push(await measure([plain, model]));
      b.push(await measure([traced, model]));
    }
    const last = JSON.parse(b.at(-1)!.output.trim().split('\n').at(-1)!) as {
      readMs: number;
      traceMs: number;
      analyzeMs: number;
      worker: { renameMs: number; sessionMs: number; runMs: number };
      unique: number;
    };
    const [ta, tb] = [median(a.map((m) => m.seconds)), median(b.map((m) => m.seconds))];
    const [ma, mb] = [Math.max(...a.map((m) => m.peakMb)), Math.max(...b.map((m) => m.peakMb))];
    const size = statSync(model).size / 2 ** 20;
    console.log(
      `model: ${path.basename(model)}, ${size.toFixed(1)} MiB, ${last.unique.toLocaleString('en-US')} parameters used; ${runs} runs each, median time, highest peak RSS (process tree)`,
    );
    console.log('');
    console.log('| run | time | peak RSS |');
    console.log('| --- | ---: | ---: |');
    console.log(
      `| (a) onnxruntime-node: session create + 1 run | ${ta.toFixed(2)} s | ${ma.toFixed(0)} MiB |`,
    );
    console.log(
      `| (b) paramtrace: readModel + traceModel + analyze | ${tb.toFixed(2)} s | ${mb.toFixed(0)} MiB |`,
    );
    console.log(`| ratio b/a | ${(tb / ta).toFixed(2)}x | ${(mb / ma).toFixed(2)}x |`);
    console.log('');
    console.log(
      `(b) in detail (last run): readModel ${ms(last.readMs)}, traceModel ${ms(last.traceMs)} ` +
        `(in the worker: renaming ${ms(last.worker.renameMs)}, session ${ms(last.worker.sessionMs)}, run ${ms(last.worker.runMs)}), analyze ${ms(last.analyzeMs)}`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function makeResnet(folder: string): string | undefined {
  if (!existsSync(PYTHON)) return undefined;
  const file = path.join(folder, 'resnet18.onnx');
  const made = spawnSync(PYTHON, [path.join(ROOT, 'scripts', 'make_trace_fixtures.py'), 'resnet18', file], {
    encoding: 'utf8',
  });
  return made.status === 0 && existsSync(file) ? file : undefined;
}

/** The traced analysis as it ships: one bundle for the program, one for the worker, side by side. */
async function bundle(folder: string): Promise<string> {
  const entry = path.join(folder, 'traced-entry.ts');
  writeFileSync(entry, TRACED);
  const common: BuildOptions = {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['onnxruntime-node'],
    logLevel: 'error',
  };
  await build({ ...common, entryPoints: [entry], outfile: path.join(folder, 'traced.mjs') });
  await build({
    ...common,
    entryPoints: [path.join(ROOT, 'src/trace/trace-worker.ts')],
    outfile: path.join(folder, 'trace-worker.js'),
  });
  // The bundle imports onnxruntime-node: resolve it from the repository's node_modules.
  writeFileSync(path.join(folder, 'package.json'), '{"type":"module"}');
  spawnSync('ln', ['-s', path.join(ROOT, 'node_modules'), path.join(folder, 'node_modules')]);
  return path.join(folder, 'traced.mjs');
}

function measure(args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
    let peakMb = 0;
    const poll = setInterval(() => (peakMb = Math.max(peakMb, treeRssMb(child.pid!))), 10);
    child.on('exit', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${code}: ${errors.slice(-2000)}`));
      else resolve({ seconds, peakMb, output });
    });
  });
}

/** Resident memory of a process and all its descendants, in MiB (Linux /proc). */
function treeRssMb(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) / 1024;
    } catch {
      // Gone.
    }
    for (const [child, parent] of parents) if (parent === p) stack.push(child);
  }
  return total;
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

await main();
