// `npm run bench`: paramtrace side by side with its peers, all measured in this one run, one table of
// ratios. Every model is made here (nothing large is committed) and deleted at the end.
//
//   static analysis (`analyze --no-trace`, duplicate detection included) of a 1.6 GB model (96 MatMul+Add
//     layers of 2048x2048 float32, a tied embedding stored again transposed, two layers exact copies of
//     others; bench/make_models.py), with its weights in the file, in one external data file, in one file
//     per tensor, and in an external data file over 2 GiB (sparse: a zero-filled table first);
//     peer: Debian's python3-onnx, `onnx.load(path, load_external_data=False)` + a sum over initializer
//     dims of the single-file model (what the same count costs in Python);
//   traced analysis (`analyze --trace --device cpu`) of torchvision's resnet18 and of the 1.6 GB model;
//     peer: a plain onnxruntime-node session create + one run of the same file;
//   graphs of 10k, 30k and 100k nodes (a chain of Relu with a MatMul every 10th): static analysis time.
//
// paramtrace runs as the npm package's CLI (lib/ as `npm run build` makes it: scripts/build-cli.ts).
// Each command runs in a fresh process, after one untimed run (files in the page cache for everyone), in
// rounds with its peer so that both see the same conditions; time is wall-clock from spawn to exit (the
// fastest run: the least disturbed by other work on the machine), memory the peak resident memory of the
// process tree (the highest). All run without NODE_EXTRA_CA_CERTS (see main). Needs /usr/bin/python3 with onnx and numpy (and torch + torchvision for
// resnet18); rows whose tools are missing are skipped. About 3 minutes on 2 cores; ~7 GB of temporary
// files at the peak.
//
//   npm run bench [-- --runs N (default 5)] [-- --skip-big (no 1.6 GB model)]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from '../src/report/report.ts';
import { buildCli } from '../scripts/build-cli.ts';
import { chainModel } from './make-graph.ts';
import { sideBySide, type Command, type Measured } from './measure.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PYTHON = '/usr/bin/python3';

const PEER_COUNT = `
import sys, onnx
m = onnx.load(sys.argv[1], load_external_data=False)
n = 0
for t in m.graph.initializer:
    p = 1
    for d in t.dims:
        p *= d
    n += p
print(n)
`;

const PLAIN_RUN = `
import * as ort from 'onnxruntime-node';
const session = await ort.InferenceSession.create(process.argv[2]);
const arrays = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array };
const feeds = {};
for (const m of session.inputMetadata) {
  const shape = m.shape.map((d) => (typeof d === 'number' ? d : 1));
  feeds[m.name] = new ort.Tensor(m.type, new arrays[m.type](shape.reduce((a, b) => a * b, 1)), shape);
}
await session.run(feeds);
await session.release();
process.exit(0);
`;

interface Row {
  what: string;
  ours: Measured;
  peer?: { name: string; measured: Measured };
  /** Goal on paramtrace / peer: at most this time and memory ratio. */
  goal?: { time: number; memory: number };
  note?: string;
  /** Rounds measured, where fewer than the bench's. */
  rounds?: number;
}

async function main(): Promise<void> {
  const runs = Number(argument('--runs') ?? 5);
  const folder = mkdtempSync(path.join(tmpdir(), 'paramtrace-bench-'));
  const rows: Row[] = [];
  const details: string[] = [];
  // Every command runs without NODE_EXTRA_CA_CERTS: no measurement makes a TLS connection, and Node
  // reads that file at every start (where it names the system's CA bundle, 40 ms here; Python never
  // reads it). The static rows are also measured with it, as the machine sets it (details).
  const machineEnv = { ...process.env };
  delete process.env.NODE_EXTRA_CA_CERTS;
  try {
    const cli = await bundle(folder);
    const node = process.execPath;
    const analyze = (args: string[]): Command => ({ command: node, args: [cli, 'analyze', ...args] });
    const plain = path.join(folder, 'plain.mjs');
    writeFileSync(plain, PLAIN_RUN);
    const python = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import onnx, numpy']).status === 0;

    // 1, 2. Static analysis of the 1.6 GB model, four storage layouts, against python3-onnx's count.
    if (python && !process.argv.includes('--skip-big')) {
      log('making the 1.6 GB model in four layouts (bench/make_models.py) ...');
      const made = spawnSync(PYTHON, [path.join(ROOT, 'bench', 'make_models.py'), folder], {
        encoding: 'utf8',
      });
      if (made.status !== 0) throw new Error(`bench/make_models.py failed: ${made.stderr}`);
      const model = (layout: string): string => path.join(folder, layout, 'model.onnx');
      const peerScript = path.join(folder, 'peer.py');
      writeFileSync(peerScript, PEER_COUNT);
      const layouts = [
        ['single', 'static, 1.6 GB model, weights in the file'],
        ['ext-one', 'static, same, external data in one file'],
        ['ext-per-tensor', 'static, same, external data file per tensor'],
        ['ext-2gb', 'static, 2.7 GB of weights, external data past 2 GiB'],
      ] as const;
      log('python3-onnx count of the single file, and paramtrace analyze --no-trace of the four layouts ...');
      // Node's own start (an empty script), measured alongside: the part of each run paramtrace cannot cut.
      const extraCerts = machineEnv.NODE_EXTRA_CA_CERTS;
      const withCerts: Command[] = extraCerts
        ? [
            { command: node, args: ['-e', ''], env: machineEnv },
            { ...analyze([model('single'), '--no-trace', '--json']), env: machineEnv },
          ]
        : [];
      const [peer, bare, ...measured] = await sideBySide(runs, [
        { command: PYTHON, args: [peerScript, model('single')] },
        { command: node, args: ['-e', ''] },
        ...layouts.map(([layout]) => analyze([model(layout), '--no-trace', '--json'])),
        ...withCerts,
      ]);
      const ours = measured.slice(0, layouts.length);
      details.push(
        `Node's own start (node -e ''): ${bare!.seconds.toFixed(3)} s, ${bare!.peakMiB.toFixed(0)} MiB; python3-onnx's count at 1/15 would be ${(peer!.seconds / 15).toFixed(3)} s`,
      );
      if (extraCerts) {
        const [bareCerts, singleCerts] = measured.slice(layouts.length);
        details.push(
          `with this machine's NODE_EXTRA_CA_CERTS=${extraCerts}: Node's own start ${bareCerts!.seconds.toFixed(3)} s; ` +
            `static, 1.6 GB model, weights in the file: ${singleCerts!.seconds.toFixed(2)} s, ${singleCerts!.peakMiB.toFixed(0)} MiB ` +
            `(1/${(peer!.seconds / singleCerts!.seconds).toFixed(1)} of python3-onnx's time)`,
        );
      }
      const reports = new Map<string, string>();
      for (const [i, [layout, what]] of layouts.entries()) {
        const report = JSON.parse(ours[i]!.stdout) as Report;
        details.push(`${layout}: ${phases(report)}`);
        reports.set(layout, comparable(report));
        rows.push({
          what,
          ours: ours[i]!,
          peer: { name: 'python3-onnx load + count (of the single file)', measured: peer! },
          goal: { time: 1 / 15, memory: 1 / 20 },
        });
      }
      const same = ['ext-one', 'ext-per-tensor'].every((l) => reports.get(l) === reports.get('single'));
      details.push(
        `reports of the three layouts of the 1.6 GB model identical (but for the file name, its size and the timings): ${same ? 'yes' : 'NO'}`,
      );
      rmSync(path.join(folder, 'ext-2gb'), { recursive: true, force: true });
      rmSync(path.join(folder, 'ext-per-tensor'), { recursive: true, force: true });

      // 4. Traced analysis of the 1.6 GB model; each run reads 1.6 GB twice over: fewer runs.
      log('traced analysis of the 1.6 GB model, and a plain onnxruntime-node session ...');
      const rounds = Math.min(runs, 3);
      rows.push({
        ...(await traced(
          'traced, 1.6 GB model, weights in the file',
          model('single'),
          rounds,
          analyze,
          plain,
          details,
        )),
        rounds,
      });
      rmSync(path.join(folder, 'single'), { recursive: true, force: true });
      rmSync(path.join(folder, 'ext-one'), { recursive: true, force: true });
    }

    // 4. Traced analysis of resnet18.
    const resnet = python ? makeResnet(folder) : undefined;
    if (resnet) {
      log('traced analysis of resnet18, and a plain onnxruntime-node session ...');
      rows.push(
        await traced('traced, torchvision resnet18 (44.6 MiB)', resnet, runs, analyze, plain, details),
      );
    } else {
      details.push('resnet18 skipped: /usr/bin/python3 with torch and torchvision is needed to export it');
    }

    // 3. Graph size.
    const sizes = [10_000, 30_000, 100_000];
    const files = sizes.map((nodes) => {
      const file = path.join(folder, `chain-${nodes}.onnx`);
      writeFileSync(file, chainModel(nodes));
      return file;
    });
    log('paramtrace analyze --no-trace of graphs of 10k, 30k and 100k nodes ...');
    const measured = await sideBySide(
      runs,
      files.map((file) => analyze([file, '--no-trace', '--json'])),
    );
    const analysisMs = measured.map((m) => {
      // The time inside the analysis (no process start): the fastest run's.
      const report = JSON.parse(m.stdout) as Report;
      return (report.timings ?? []).reduce((sum, t) => sum + t.ms, 0);
    });
    for (const [i, nodes] of sizes.entries()) {
      details.push(`${nodes} nodes: ${phases(JSON.parse(measured[i]!.stdout) as Report)}`);
      rows.push({
        what: `static, ${nodes.toLocaleString('en-US')}-node graph`,
        ours: measured[i]!,
        note: `${(analysisMs[i]! / 1000).toFixed(2)} s of it in the analysis`,
      });
    }
    details.push(
      `graph size: 100k / 10k nodes = ${(analysisMs[2]! / analysisMs[0]!).toFixed(1)}x the analysis time (linear: 10x), ` +
        `${(measured[2]!.seconds / measured[0]!.seconds).toFixed(1)}x the wall time (with process start)`,
    );

    print(rows, runs, details);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

async function traced(
  what: string,
  model: string,
  runs: number,
  analyze: (args: string[]) => Command,
  plain: string,
  details: string[],
): Promise<Row> {
  const [peer, ours] = await sideBySide(runs, [
    { command: process.execPath, args: [plain, model] },
    analyze([model, '--trace', '--device', 'cpu', '--json']),
  ]);
  const report = JSON.parse(ours!.stdout) as Report;
  details.push(`${what}: ${phases(report)}`);
  return {
    what,
    ours: ours!,
    peer: { name: 'onnxruntime-node create + 1 run', measured: peer! },
    goal: { time: 1.25, memory: 1.2 },
  };
}

function print(rows: Row[], runs: number, details: string[]): void {
  const s = (m: Measured): string => `${m.seconds.toFixed(2)} s, ${m.peakMiB.toFixed(0)} MiB`;
  const lines = [
    '| measurement | paramtrace | peer | peer: time, memory | paramtrace / peer: time | memory | goal (time, memory) |',
    '| --- | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    if (!r.peer) {
      lines.push(`| ${r.what} | ${s(r.ours)} | - | - | - | - | ${r.note ?? ''} |`);
      continue;
    }
    const time = r.ours.seconds / r.peer.measured.seconds;
    const memory = r.ours.peakMiB / r.peer.measured.peakMiB;
    const ratio = (x: number): string =>
      x < 1 ? `${x.toFixed(3)} (${(1 / x).toFixed(1)}x less)` : `${x.toFixed(2)}x`;
    const goal = r.goal!;
    const met = (x: number, limit: number): string => (x <= limit ? 'met' : 'NOT met');
    const limit = (x: number): string => (x < 1 ? `≤ 1/${Math.round(1 / x)}` : `≤ ${x}x`);
    lines.push(
      `| ${r.what} | ${s(r.ours)} | ${r.peer.name} | ${s(r.peer.measured)} | ${ratio(time)} | ${ratio(memory)} | ` +
        `${limit(goal.time)}: ${met(time, goal.time)}; ${limit(goal.memory)}: ${met(memory, goal.memory)} |`,
    );
  }
  const fewer = rows
    .filter((r) => r.rounds !== undefined && r.rounds < runs)
    .map((r) => `${r.rounds} for ${r.what}`);
  console.log('');
  console.log(
    `${runs} rounds${fewer.length > 0 ? ` (${fewer.join('; ')})` : ''} after one untimed run, paramtrace and its peer in turn; ` +
      'fastest time, highest peak RSS (process tree).',
  );
  console.log('');
  for (const l of lines) console.log(l);
  console.log('');
  for (const d of details) console.log(`- ${d}`);
}

/** Where the time went, from the report's timings. */
function phases(report: Report): string {
  return (report.timings ?? [])
    .map((t) => `${t.phase} ${Math.round(t.ms)} ms / ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB`)
    .join(', ');
}

/** A report without what differs between layouts of one model: the file and the timings. */
function comparable(report: Report): string {
  const { timings: _timings, model, ...rest } = report;
  return JSON.stringify({ ...rest, model: { ...model, file: '', sizeBytes: 0 } });
}

function makeResnet(folder: string): string | undefined {
  const file = path.join(folder, 'resnet18.onnx');
  const made = spawnSync(PYTHON, [path.join(ROOT, 'scripts', 'make_trace_fixtures.py'), 'resnet18', file], {
    encoding: 'utf8',
  });
  return made.status === 0 && existsSync(file) ? file : undefined;
}

/** The CLI as the npm package ships it (scripts/build-cli.ts), in `folder`. */
async function bundle(folder: string): Promise<string> {
  const cli = await buildCli(path.join(folder, 'cli'));
  // The bundle imports onnxruntime-node: resolve it from the repository's node_modules.
  writeFileSync(path.join(folder, 'package.json'), '{"type":"module"}');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(folder, 'node_modules'));
  return cli;
}

function log(text: string): void {
  process.stderr.write(`${text}\n`);
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

await main();
