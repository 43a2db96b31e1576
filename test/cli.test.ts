// The CLI as a user runs it: a child process, its stdout, stderr and exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fixture } from './support/analyze-fixture.ts';
import { parseReport } from '../src/report/validate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = path.join(root, 'node_modules/.bin/tsx');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(tsx, [path.join(root, 'src/cli/main.ts'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('analyze prints the torchsummary-like table with marks and the explained totals', () => {
  const r = cli('analyze', fixture('seed-case-2.onnx'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\s*\d+\s+conv1\s+Conv\s+.*\s9\s+shared$/m);
  assert.match(r.stdout, /^\s*\d+\s+conv1_1\s+Conv\s+\[1, 1, 512, 512\]\s+9\s+shared$/m);
  assert.match(r.stdout, /^Declared params:\s+9$/m);
  assert.match(r.stdout, /^Unique params \(used\):\s+9$/m);
  assert.match(r.stdout, /^Summary-style params:\s+18$/m);
  assert.match(r.stdout, /Summary-style - unique = 9 .*conv1\.weight \(9 x 2 calls\)/);
  assert.match(r.stdout, /need|manifest/);
});

test('analyze --json prints a report that passes the report schema, and --output writes the same', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-'));
  const out = path.join(dir, 'report.json');
  const r = cli('analyze', fixture('tied-embedding.onnx'), '--json', '--output', out);
  assert.equal(r.status, 0, r.stderr);
  const report = parseReport(r.stdout, 'stdout');
  assert.deepEqual(parseReport(readFileSync(out, 'utf8'), out), report);
  assert.equal(report.counts.declared, 1600);
  assert.equal(report.duplicates[0]?.transposed, true);
});

test('a seed case 3 export with the manifest reads exactly as seed-cases.md says', () => {
  const r = cli('analyze', path.join(root, 'examples/head.onnx'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = parseReport(r.stdout, 'stdout');
  assert.equal(report.source, 'manifest');
  assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['conv1.weight', 2]],
  );
  assert.deepEqual(
    report.unused.map((u) => [u.name, u.numel, u.reason]),
    [['conv2.weight', 9, 'not-exported']],
  );
});

test('large numbers are grouped in the table', () => {
  const r = cli('analyze', fixture('tied-embedding.onnx'));
  assert.match(r.stdout, /^Summary-style params:\s+3,200$/m);
});

const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-bad-'));
const badInputs: [string, () => string, RegExp][] = [
  [
    'a text file',
    () => write('notes.onnx', 'hello, this is not a model\n'),
    /not a valid ONNX file|not an ONNX model/,
  ],
  ['an empty file', () => write('empty.onnx', ''), /empty/],
  [
    'a truncated model',
    () => write('truncated.onnx', readFileSync(fixture('tied-embedding.onnx')).subarray(0, 300)),
    /truncated/,
  ],
  ['a missing file', () => path.join(dir, 'missing.onnx'), /no such file/],
  ['a directory', () => dir, /directory/],
  [
    'a model whose external data file is missing',
    () => {
      copyFileSync(fixture('external-data.onnx'), path.join(dir, 'external-data.onnx'));
      return path.join(dir, 'external-data.onnx');
    },
    /external data file 'external-data\.weights', which is missing/,
  ],
  [
    'a model whose external data file is too short',
    () => {
      const sub = mkdtempSync(path.join(dir, 'short-'));
      copyFileSync(fixture('external-data.onnx'), path.join(sub, 'm.onnx'));
      writeFileSync(path.join(sub, 'external-data.weights'), Buffer.alloc(8));
      return path.join(sub, 'm.onnx');
    },
    /which has only 8 bytes/,
  ],
];

function write(name: string, data: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, data);
  return file;
}

for (const [what, make, message] of badInputs) {
  test(`${what}: one clear line naming the file, exit code 2, no stack trace`, () => {
    const file = make();
    const r = cli('analyze', file);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
    assert.ok(r.stderr.startsWith(`paramtrace: ${file}`), r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}

test('usage errors exit 2 with the usage', () => {
  const r = cli('analyze');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /exactly one model file/);
  assert.match(r.stderr, /Usage:/);
  assert.equal(cli('frobnicate').status, 2);
});

test('compare --markdown prints the comment and exits 1 when a threshold fails', () => {
  const pass = cli(
    'compare',
    path.join(root, 'examples/base.onnx'),
    path.join(root, 'examples/head.onnx'),
    '--markdown',
  );
  assert.equal(pass.status, 0, pass.stderr);
  assert.match(pass.stdout, /^<!-- paramtrace:comment-key=default -->\n### paramtrace: ✅ pass/);
  const fail = cli(
    'compare',
    path.join(root, 'examples/base.onnx'),
    path.join(root, 'examples/head.onnx'),
    '--fail-on-new-unused',
    '--markdown',
  );
  assert.equal(fail.status, 1);
  assert.match(fail.stdout, /### paramtrace: ❌ fail: new unused parameter: conv2\.weight/);
  const bad = cli('compare', fixture('seed-case-1.expect.json'), fixture('seed-case-2.onnx'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a paramtrace report/);
});

test('analyze traces by default: output shapes of every call come from the run', () => {
  const r = cli('analyze', fixture('seed-case-2.onnx'));
  assert.match(r.stdout, /^\s*\d+\s+conv1\s+Conv\s+\[1, 1, 512, 512\]\s+9\s+shared$/m);
  assert.match(r.stdout, /execution: traced with onnxruntime [\d.]+ on cpu/);
  const noTrace = cli('analyze', fixture('seed-case-2.onnx'), '--no-trace');
  assert.match(noTrace.stdout, /execution: static \(not traced\)/);
});

test('a trace that fails falls back to the static report, saying why, unless --trace asked for it', () => {
  const model = fixture('trace/unsupported-op.onnx');
  const fallback = cli('analyze', model);
  assert.equal(fallback.status, 0, fallback.stderr);
  assert.match(
    fallback.stdout,
    /execution: static \(trace failed: onnxruntime cannot load the model: .*NoSuchOp/,
  );
  const required = cli('analyze', model, '--trace');
  assert.equal(required.status, 2);
  assert.match(required.stderr, /^paramtrace: onnxruntime cannot load the model: .*NoSuchOp/m);
  const bad = cli('analyze', model, '--device', 'tpu');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--device must be auto, cpu or cuda/);
});

test('trace options naming no input of the model are usage errors (exit 2), even without --trace', () => {
  const model = fixture('trace/symbolic-dims.onnx');
  for (const [option, value] of [
    ['--value', 'sr=16000'],
    ['--input-file', `sr=${fixture('trace/x-ones.npy')}`],
    ['--input', 'sr=1x4'],
  ]) {
    const r = cli('analyze', model, option!, value!);
    assert.equal(r.status, 2, `${option} ${value}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      new RegExp(`^paramtrace: ${option} sr: the model has no such input \\(its inputs: x\\)$`, 'm'),
    );
  }
  const badValue = cli('analyze', model, '--value', 'x=1,2');
  assert.equal(badValue.status, 2);
  assert.match(
    badValue.stderr,
    /--value x: 2 value\(s\) cannot fill input 'x' of shape batchx4: its dimension 0 is sized by the number of values, which must then be a multiple of 4/,
  );
  const noValue = cli('analyze', model, '--value', 'x');
  assert.equal(noValue.status, 2);
  assert.match(noValue.stderr, /--value x: expected NAME=VALUE/);
  // A leading symbolic dimension no longer stops the trace: a batch of one, said in a note.
  const ok = cli('analyze', model);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /execution: traced with onnxruntime/);
  assert.match(ok.stdout, /^Note: Traced with a batch of one: .*'batch' of 'x'/m);
});

test('a branch chosen by a real input file: the other branch is not-executed', () => {
  const r = cli(
    'analyze',
    fixture('trace/torch-script-if.onnx'),
    '--json',
    '--input-file',
    `x=${fixture('trace/x-ones.npy')}`,
  );
  assert.equal(r.status, 0, r.stderr);
  const report = parseReport(r.stdout, 'stdout');
  assert.equal(report.trace.mode, 'onnxruntime');
  assert.deepEqual(report.unused.map((u) => [u.name, u.reason]).sort(), [
    ['b.bias', 'not-executed'],
    ['b.weight', 'not-executed'],
  ]);
});

test('external data that leaves the model folder (../, absolute, symlink) is refused, never read', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'paramtrace-ext-'));
  const inner = path.join(base, 'model');
  mkdirSync(inner);
  writeFileSync(path.join(base, 'secret.weights'), Buffer.alloc(4096));
  const model = readFileSync(fixture('external-data.onnx'));
  const withLocation = (location: string): string => {
    // Same-length replacement keeps every protobuf length valid.
    const from = Buffer.from('external-data.weights');
    const to = Buffer.from(location.padEnd(from.length, '/'));
    assert.equal(to.length, from.length);
    const file = path.join(inner, `m-${Math.random().toString(36).slice(2)}.onnx`);
    writeFileSync(
      file,
      Buffer.from(
        model.toString('latin1').split(from.toString('latin1')).join(to.toString('latin1')),
        'latin1',
      ),
    );
    return file;
  };
  const up = cli('analyze', '--no-trace', withLocation('../secret.weights'));
  assert.equal(up.status, 2);
  assert.match(up.stderr, /outside the model's folder/);
  const absolute = cli('analyze', '--no-trace', withLocation('/etc/hostname'));
  assert.equal(absolute.status, 2);
  assert.match(absolute.stderr, /absolute external data path/);
  symlinkSync(path.join(base, 'secret.weights'), path.join(inner, 'link.weights'));
  const link = cli('analyze', '--no-trace', withLocation('link.weights'));
  assert.equal(link.status, 2);
  assert.match(link.stderr, /a link to a file outside the model's folder/);
  // A linked folder: its real path decides (one leading out is refused, one inside is read).
  symlinkSync(base, path.join(inner, 'up'));
  const viaFolder = cli('analyze', '--no-trace', withLocation('up/secret.weights'));
  assert.equal(viaFolder.status, 2);
  assert.match(viaFolder.stderr, /a link to a file outside the model's folder/);
  mkdirSync(path.join(inner, 'data'));
  copyFileSync(fixture('external-data.weights'), path.join(inner, 'data', 'e.weights'));
  symlinkSync('data', path.join(inner, 'al'));
  const inside = cli('analyze', '--no-trace', '--json', withLocation('al/e.weights'));
  assert.equal(inside.status, 0, inside.stderr);
  assert.ok(parseReport(inside.stdout, 'stdout').counts.unique > 0);
  // A link to itself: named, with exit code 2, never an internal error.
  symlinkSync('loop.weights', path.join(inner, 'loop.weights'));
  const loop = cli('analyze', '--no-trace', withLocation('loop.weights'));
  assert.equal(loop.status, 2, loop.stderr);
  assert.match(loop.stderr, /cannot resolve external data 'loop\.weights.*symbolic links/);
});

test('the npm package: bin/paramtrace.js runs the bundled lib/ (npm run build), trace worker included', async () => {
  // The package's layout in a folder of its own: bin/, lib/ as scripts/build-cli.ts writes it.
  const { buildCli } = await import('../scripts/build-cli.ts');
  const pkg = mkdtempSync(path.join(tmpdir(), 'paramtrace-pkg-'));
  await buildCli(path.join(pkg, 'lib'));
  mkdirSync(path.join(pkg, 'bin'));
  copyFileSync(path.join(root, 'bin/paramtrace.js'), path.join(pkg, 'bin/paramtrace.js'));
  copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [path.join(pkg, 'bin/paramtrace.js'), ...args], { encoding: 'utf8' });
  const traced = run('analyze', path.join(root, 'examples/head.onnx'), '--json');
  assert.equal(traced.status, 0, traced.stderr);
  const report = parseReport(traced.stdout, 'stdout');
  assert.equal(report.trace.mode, 'onnxruntime');
  assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
  // compare with two reports loads the validator chunk; a report that is not one is refused.
  const bad = path.join(pkg, 'bad.json');
  writeFileSync(bad, '{"schemaVersion": 1}');
  const refused = run('compare', bad, bad);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /not a paramtrace report/);
});

test('a trace that fails says so on stderr and at the top of the report; a static report by choice says it in one line', () => {
  const model = fixture('trace/unsupported-op.onnx');
  const r = cli('analyze', model);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /^paramtrace: warning: the trace of .*unsupported-op\.onnx failed \(.*NoSuchOp.*\): counts are static; pass --trace to make this an error, or fix the inputs with --input, --dim/,
  );
  // The warning comes before the table, with why and what to set.
  assert.match(
    r.stdout,
    /^WARNING: the trace failed, so these counts are static, not what a run executes\.\n {2}Why: .*NoSuchOp/,
  );
  assert.match(r.stdout, /^ {2}To trace: .*--trace makes a failed trace an error/m);
  assert.ok(r.stdout.indexOf('WARNING') < r.stdout.indexOf('Layer (call)'));
  // --json: stdout is the report, stderr still warns.
  const json = cli('analyze', model, '--json');
  assert.equal(parseReport(json.stdout, 'stdout').trace.mode, 'failed');
  assert.match(json.stderr, /^paramtrace: warning: the trace of .* failed/);
  // Static by choice: a note, not a warning; traced: neither.
  const noTrace = cli('analyze', model, '--no-trace');
  assert.equal(noTrace.stderr, '');
  assert.match(noTrace.stdout, /^Static analysis, not traced: .*\n-{10,}\n/);
  const traced = cli('analyze', fixture('seed-case-2.onnx'));
  assert.equal(traced.stderr, '');
  assert.match(traced.stdout, /^-{10,}\n\s*#\s+Layer \(call\)/);
});

test('compare: the side whose trace failed is named on stderr and in a warning right after the verdict', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-failed-'));
  const head = fixture('trace/unsupported-op.onnx');
  const r = cli('compare', fixture('seed-case-1.onnx'), head, '--markdown');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^paramtrace: warning: the trace of .*unsupported-op\.onnx failed/);
  assert.doesNotMatch(r.stderr, /seed-case-1/);
  const lines = r.stdout.split('\n');
  assert.match(lines[1]!, /^### paramtrace: /);
  assert.equal(lines[3], '> [!WARNING]');
  assert.match(
    lines[4]!,
    /^> The trace failed for \*\*head\*\* \(.*NoSuchOp.*\), so the counts and findings of head are static: .*<code>trace: required<\/code> in the action \(<code>--trace<\/code> in the CLI\)/,
  );
  // A report file whose trace failed: its counts are static too.
  const report = path.join(dir, 'head.json');
  writeFileSync(report, cli('analyze', head, '--json').stdout);
  const fromReport = cli('compare', fixture('seed-case-1.onnx'), report, '--no-trace', '--markdown');
  assert.equal(fromReport.status, 0, fromReport.stderr);
  assert.match(
    fromReport.stderr,
    /^paramtrace: warning: the report .*head\.json is static: its trace failed \(.*NoSuchOp/,
  );
  assert.match(fromReport.stdout, /^> \[!WARNING\]$/m);
  // On the terminal: the same warning, in a line right after the verdict, before the counts.
  const text = cli('compare', fixture('seed-case-1.onnx'), report, '--no-trace');
  assert.equal(text.status, 0, text.stderr);
  const textLines = text.stdout.split('\n');
  assert.match(textLines[0]!, /^paramtrace: ✅ pass/);
  assert.match(
    textLines[1]!,
    /^WARNING: the trace of head failed \(.*NoSuchOp.*\), so its counts and findings are static: .*--trace makes that an error/,
  );
  assert.match(textLines[2]!, /^-{10,}$/);
});

test('analyze --depth N sums calls below depth N into their module; --all-nodes shows every call', async () => {
  const { inlinedModel } = await import('./support/inlined-model.ts');
  const { encode } = await import('./fuzz/proto.ts');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-depth-')), 'inlined.onnx');
  writeFileSync(file, encode(inlinedModel()));
  const byDefault = cli('analyze', file, '--no-trace');
  assert.equal(byDefault.status, 0, byDefault.stderr);
  assert.match(byDefault.stdout, /^\s*\d+\s+encoder\.0\.reparam_conv \(then\)\s+MatMul\+Add\s+-\s+20$/m);
  assert.match(byDefault.stdout, /^\s*\d+\s+decoder\.out \(then\)\s+MatMul\+Add\s+-\s+5$/m);
  // No row of a call without parameters (the footer says activations are not measured: not a row).
  assert.doesNotMatch(byDefault.stdout, /^\s*\d+\s+\S*(activation|Sigmoid)/m);
  assert.match(
    byDefault.stdout,
    /^… 7 layer calls without parameters not shown; --all-nodes shows every layer call$/m,
  );
  const depth1 = cli('analyze', file, '--no-trace', '--depth', '1');
  assert.match(depth1.stdout, /^\s*\d+\s+encoder \(then\)\s+MatMul\+Add \(4 calls\)\s+-\s+80$/m);
  assert.match(depth1.stdout, /^\s*\d+\s+decoder \(then\)\s+MatMul\+Add \(2 calls\)\s+-\s+25$/m);
  assert.match(depth1.stdout, /6 calls below depth 1 summed into their modules \(--depth N\)/);
  const all = cli('analyze', file, '--no-trace', '--all-nodes');
  assert.match(all.stdout, /^\s*\d+\s+encoder\.0\.activation \(then\)\s+Relu\s+-\s+0$/m);
  assert.match(all.stdout, /^\s*\d+\s+\/Sigmoid \(then\)\s+Sigmoid/m);
  assert.doesNotMatch(all.stdout, /not shown/);
  for (const bad of [
    ['--depth', '0'],
    ['--depth', 'two'],
    ['--depth', '2', '--all-nodes'],
  ]) {
    const r = cli('analyze', file, '--no-trace', ...bad);
    assert.equal(r.status, 2, bad.join(' '));
    assert.match(r.stderr, /--depth/);
  }
});
