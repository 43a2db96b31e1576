// The command line's help, version, option names and terminal output, as a user runs them: a child
// process, its stdout, stderr and exit code.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as gen from './fuzz/onnx-gen.ts';
import { encode } from './fuzz/proto.ts';
import { fixture } from './support/analyze-fixture.ts';
import { parseReport } from '../src/report/validate.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = path.join(root, 'node_modules/.bin/tsx');
const main = path.join(root, 'src/cli/main.ts');
const examples = (name: string): string => path.join(root, 'examples', name);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Run {
  const r = spawnSync(tsx, [main, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertNoStack(r: Run): void {
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, r.stderr);
}

/** The `Exit codes:` block of a help: code → what it says. */
function exitCodes(help: string): Map<string, string> {
  const block = help.slice(help.indexOf('Exit codes:'));
  assert.ok(help.includes('Exit codes:'), help);
  return new Map([...block.matchAll(/^ {2}(\d) {2}(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The options a help defines (its lines that start with one, `-h, --help` and `--input, --input-shape
 * NAME=SHAPE` included): each name, and whether the help shows it taking a value.
 */
function optionsIn(help: string): Map<string, boolean> {
  const options = new Map<string, boolean>();
  for (const m of help.matchAll(/^ {2}((?:-\w, )?--[a-z-]+(?:, --[a-z-]+)*)(?: (\S+))?(?: {2,}|$)/gm))
    for (const name of m[1]!.split(', '))
      if (name.startsWith('--')) options.set(name.slice(2), m[2] !== undefined);
  return options;
}

test('paramtrace --help, -h and help: the commands, examples and the four exit codes, exit 0', () => {
  const outputs = [cli('--help'), cli('-h'), cli('help')];
  for (const r of outputs) {
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, outputs[0]!.stdout);
  }
  const help = outputs[0]!.stdout;
  assert.match(help, /^ {2}paramtrace analyze MODEL\.onnx /m);
  assert.match(help, /^ {2}paramtrace compare BASE HEAD /m);
  assert.match(help, /^ {2}paramtrace --version/m);
  assert.match(help, /^Examples:\n {2}paramtrace /m);
  const codes = exitCodes(help);
  assert.deepEqual([...codes.keys()], ['0', '1', '2', '3']);
  assert.match(codes.get('1')!, /threshold failed/);
  assert.match(codes.get('2')!, /usage or input error/);
  assert.match(codes.get('3')!, /internal error/);
  // No command: the same help, but an exit status that says nothing was done.
  const none = cli();
  assert.equal(none.status, 2);
  assert.equal(none.stdout, help);
});

for (const command of ['analyze', 'compare']) {
  test(`paramtrace ${command} --help defines only options ${command} takes, with examples and exit codes`, () => {
    const r = cli(command, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(cli(command, '-h').stdout, r.stdout);
    assert.equal(cli('help', command).stdout, r.stdout);
    // --help wins over the arguments around it, and does not trace the model it names.
    const withModel = cli(command, examples('head.onnx'), '--help');
    assert.equal(withModel.status, 0);
    assert.equal(withModel.stdout, r.stdout);
    assert.match(r.stdout, new RegExp(`^Usage: paramtrace ${command} `));
    assert.match(r.stdout, new RegExp(`^Examples:\\n(  paramtrace .*\\n)+`, 'm'));
    assert.deepEqual([...exitCodes(r.stdout).keys()], ['0', '1', '2', '3']);
    const options = optionsIn(r.stdout);
    for (const shared of [
      'no-trace',
      'trace',
      'device',
      'input',
      'input-shape',
      'dim',
      'value',
      'input-file',
    ])
      assert.ok(options.has(shared), `${command} --help defines --${shared}`);
    // Every option the help defines, given as it shows it (a value where it shows one), parses: an option
    // the command does not know would be refused before --help is seen.
    const args = [...options].flatMap(([name, takesValue]) =>
      takesValue ? [`--${name}`, '1'] : [`--${name}`],
    );
    const all = cli(command, ...args);
    assert.equal(all.status, 0, `${args.join(' ')}: ${all.stderr}`);
    assert.equal(all.stdout, r.stdout);
    const unknown = cli(command, '--frobnicate', '--help');
    assert.equal(unknown.status, 2);
  });
}

test('paramtrace --version prints the version of package.json', () => {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-v', '-V']) {
    const r = cli(flag);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('an unknown option: exit 2, one message naming it and pointing at --help, no stack trace', () => {
  const r = cli('analyze', examples('head.onnx'), '--frobnicate');
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assertNoStack(r);
  assert.match(r.stderr, /^paramtrace: unknown option '--frobnicate' for paramtrace analyze\n/);
  assert.match(r.stderr, /^Run 'paramtrace analyze --help' for its options/m);
  // A near miss is named.
  const typo = cli('compare', 'a.onnx', 'b.onnx', '--max-grwth', '5%');
  assert.equal(typo.status, 2);
  assert.match(
    typo.stderr,
    /^paramtrace: unknown option '--max-grwth' for paramtrace compare \(did you mean '--max-growth'\?\)/,
  );
  assert.match(typo.stderr, /paramtrace compare --help/);
  assertNoStack(typo);
  const command = cli('anaylze', 'm.onnx');
  assert.equal(command.status, 2);
  assert.match(command.stderr, /^paramtrace: unknown command 'anaylze' \(did you mean 'analyze'\?\)/);
  assert.match(command.stderr, /paramtrace --help/);
  const topic = cli('help', 'nope');
  assert.equal(topic.status, 2);
  assert.match(topic.stderr, /unknown command 'nope'/);
  // A missing value and contradicting outputs are usage errors too.
  const missing = cli('analyze', examples('head.onnx'), '--output');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--output/);
  assertNoStack(missing);
  const both = cli('compare', examples('base.onnx'), examples('head.onnx'), '--json', '--markdown');
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--json and --markdown contradict each other/);
  const key = cli('compare', examples('base.onnx'), examples('head.onnx'), '--comment-key', 'k');
  assert.equal(key.status, 2);
  assert.match(key.stderr, /--comment-key .* needs --markdown/);
});

const COUNT_LABELS: [string, string][] = [
  ['unique', 'Unique \\(used\\)'],
  ['declared', 'Declared'],
  ['summary', 'Summary-style'],
  ['trainable', 'Trainable'],
  ['frozen', 'Frozen'],
  ['buffers', 'Buffers'],
];

interface JsonDelta {
  base: number;
  head: number;
  delta: number;
}

test('compare prints text tables by default: the counts of --json, the new findings, the same exit code', () => {
  const args = [examples('base.onnx'), examples('head.onnx')];
  const text = cli('compare', ...args);
  const json = cli('compare', ...args, '--json');
  assert.equal(text.status, 0, text.stderr);
  assert.equal(json.status, 0, json.stderr);
  const c = JSON.parse(json.stdout) as {
    counts: Record<string, JsonDelta>;
    newShared: { name: string; numel: number; calls: number; callNames: string[] }[];
    newUnused: { name: string; numel: number; reason: string }[];
  };
  assert.match(text.stdout, /^paramtrace: ✅ pass: /);
  assert.doesNotMatch(text.stdout, /<!--|\| :--|<code>/, 'no Markdown');
  assert.match(text.stdout, /^Parameters\s+base\s+head\s+change\s+%$/m);
  for (const [name, label] of COUNT_LABELS) {
    const d = c.counts[name]!;
    const change = d.delta > 0 ? `\\+${d.delta}` : String(d.delta);
    assert.match(text.stdout, new RegExp(`^${label}\\s+${d.base}\\s+${d.head}\\s+${change}\\s`, 'm'), name);
  }
  // The pair is seed cases 1 and 3 (README): unique halves, conv1.weight is newly shared, conv2 unused.
  assert.match(text.stdout, /^Unique \(used\)\s+18\s+9\s+-9\s+-50\.0%$/m);
  assert.equal(c.newShared.length, 1);
  const [shared] = c.newShared;
  assert.match(text.stdout, /^New shared parameters/m);
  assert.match(
    text.stdout,
    new RegExp(
      `^1\\s+${shared!.name}\\s+${shared!.numel}\\s+${shared!.calls}\\s+${shared!.callNames.join(', ')}$`,
      'm',
    ),
  );
  const [unused] = c.newUnused;
  assert.match(
    text.stdout,
    new RegExp(`^1\\s+${unused!.name}\\s+${unused!.numel}\\s+${unused!.reason}: `, 'm'),
  );
  assert.match(
    text.stdout,
    /^Base: .*base\.onnx; traced with onnxruntime .*; inputs input_0 \[1, 1, 512, 512\]$/m,
  );
  // A threshold that fails: exit 1, the failure in the verdict line.
  const fail = cli('compare', ...args, '--fail-on-new-unused');
  assert.equal(fail.status, 1);
  assert.match(fail.stdout, /^paramtrace: ❌ fail: new unused parameter: conv2\.weight$/m);
  // --markdown keeps the pull-request comment, as npm start prints it.
  const markdown = cli('compare', ...args, '--markdown', '--comment-key', 'k');
  assert.equal(markdown.status, 0, markdown.stderr);
  assert.match(markdown.stdout, /^<!-- paramtrace:comment-key=k -->\n### paramtrace: ✅ pass/);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  assert.match(pkg.scripts.start, /compare examples\/base\.onnx examples\/head\.onnx --markdown$/);
});

/** x[1,4] → MatMul(fc.weight) → Add(bias): a model whose parameters the test decides. */
function linearModel(weight: number[], bias: { name: string; size: number }): Uint8Array {
  return encode(
    gen.model(
      gen.graph({
        nodes: [
          gen.node({ op: 'MatMul', inputs: ['x', 'fc.weight'], outputs: ['h'], name: '/fc/MatMul' }),
          gen.node({ op: 'Add', inputs: ['h', bias.name], outputs: ['y'], name: '/fc/Add' }),
        ],
        initializers: [
          gen.tensor({ name: 'fc.weight', dims: weight }),
          gen.tensor({ name: bias.name, dims: [bias.size] }),
        ],
        inputs: [gen.valueInfo('x', [1, weight[0]!])],
        outputs: [gen.valueInfo('y', [1, weight[1]!])],
      }),
    ),
  );
}

test('compare text: parameters added, removed and resized, largest change first, in one table', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-text-'));
  const base = path.join(dir, 'base.onnx');
  const head = path.join(dir, 'head.onnx');
  writeFileSync(base, linearModel([4, 4], { name: 'old.bias', size: 4 }));
  writeFileSync(head, linearModel([4, 8], { name: 'new.bias', size: 8 }));
  const r = cli('compare', base, head);
  assert.equal(r.status, 0, r.stderr);
  // 16 + 4 parameters against 32 + 8.
  assert.match(r.stdout, /^Declared\s+20\s+40\s+\+20\s+\+100\.0%$/m);
  assert.match(r.stdout, /^Parameters added, removed or resized:$/m);
  assert.match(r.stdout, /^\d\s+new\.bias\s+added\s+-\s+\[8\]\s+\+8$/m);
  assert.match(r.stdout, /^\d\s+old\.bias\s+removed\s+\[4\]\s+-\s+-4$/m);
  assert.match(r.stdout, /^\d\s+fc\.weight\s+resized\s+\[4, 4\]\s+\[4, 8\]\s+\+16$/m);
  assert.match(
    r.stdout,
    /^Head: .*head\.onnx; traced with onnxruntime .*; ONNX graph only; inputs x \[1, 4\]$/m,
  );
  // A threshold on it: the growth is named in the verdict, exit 1.
  const fail = cli('compare', base, head, '--max-growth', '50%');
  assert.equal(fail.status, 1);
  assert.match(fail.stdout, /^paramtrace: ❌ fail: unique parameters grew \+100\.00?%/m);
});

test("the action's input names work as CLI options: --input-shape, --input-dim, --input-value", () => {
  const model = fixture('trace/symbolic-dims.onnx');
  const shapeOf = (...args: string[]): number[] => {
    const r = cli('analyze', model, '--json', ...args);
    assert.equal(r.status, 0, r.stderr);
    const trace = parseReport(r.stdout, 'stdout').trace;
    assert.equal(trace.mode, 'onnxruntime');
    return trace.mode === 'onnxruntime' ? trace.inputs[0]!.shape : [];
  };
  assert.deepEqual(shapeOf('--input-shape', 'x=3x4'), [3, 4]);
  assert.deepEqual(shapeOf('--input-dim', 'batch=5'), [5, 4]);
  // Both spellings mixed: the later one for the same input wins, as with one spelling.
  assert.deepEqual(shapeOf('--input', 'x=2x4', '--input-shape', 'x=3x4'), [3, 4]);
  assert.deepEqual(shapeOf('--input-shape', 'x=3x4', '--input', 'x=2x4'), [2, 4]);
  // --input-value: values that size the batch (8 values for a batch of 2 rows of 4).
  assert.deepEqual(shapeOf('--input-value', `x=${Array(8).fill(1).join(',')}`), [2, 4]);
  const bad = cli('analyze', model, '--input-shape', 'sr=1x4');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /sr: the model has no such input/);
});

/** BatchNormalization over `channels` channels: scale and bias are parameters, mean and var buffers. */
function batchNormModel(channels: number): Uint8Array {
  return encode(
    gen.model(
      gen.graph({
        nodes: [
          gen.node({
            op: 'BatchNormalization',
            inputs: ['x', 'bn.weight', 'bn.bias', 'bn.mean', 'bn.var'],
            outputs: ['y'],
            name: '/bn/BatchNormalization',
          }),
        ],
        initializers: ['bn.weight', 'bn.bias', 'bn.mean', 'bn.var'].map((name) =>
          gen.tensor({ name, dims: [channels] }),
        ),
        inputs: [gen.valueInfo('x', ['batch', channels, 2, 2])],
        outputs: [gen.valueInfo('y', ['batch', channels, 2, 2])],
      }),
    ),
  );
}

test('analyze: the footer states the traced input shapes, the memory of parameters, buffers, inputs and activations, and the MACs', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-footer-'));
  const file = path.join(dir, 'bn.onnx');
  // 65,536 channels of float32: 0.25 MiB for each of the four tensors, 1 MiB for an input of 1x65536x2x2
  // (a leading symbolic dimension is traced as 1).
  writeFileSync(file, batchNormModel(65_536));
  const r = cli('analyze', file);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Input shapes:\s+x float32 \[1, 65536, 2, 2\]$/m);
  assert.match(r.stdout, /^Params size \(MB\):\s+0\.50$/m);
  assert.match(r.stdout, /^Buffers size \(MB\):\s+0\.50$/m);
  assert.match(r.stdout, /^Input size \(MB\):\s+1\.00$/m);
  // The run: the input (1 MiB) and the output (1 MiB) are alive together while BatchNormalization runs;
  // the peak holds the input, so the estimate adds the peak in its place. BatchNormalization: 2 MACs per
  // element (counting.md, "MACs and memory").
  assert.match(r.stdout, /^Activations \(MB\):\s+2\.00 at peak, 1\.00 written in one run$/m);
  assert.match(
    r.stdout,
    /^Estimated size \(MB\):\s+3\.00 \(parameters \+ buffers \+ peak activations with inputs\)$/m,
  );
  assert.match(
    r.stdout,
    new RegExp(
      `^MACs \\(one run\\):\\s+${(2 * 65_536 * 2 * 2).toLocaleString('en-US')} \\(traced shapes\\)$`,
      'm',
    ),
  );
  // The input shape given is the one stated and counted.
  const two = cli('analyze', file, '--input', 'x=2x65536x2x2');
  assert.match(two.stdout, /^Input shapes:\s+x float32 \[2, 65536, 2, 2\]$/m);
  assert.match(two.stdout, /^Input size \(MB\):\s+2\.00$/m);
  assert.match(two.stdout, /^Estimated size \(MB\):\s+5\.00 /m);
  // Static: no input was fed, so none is counted, and the label says so.
  const noTrace = cli('analyze', file, '--no-trace');
  assert.match(noTrace.stdout, /^Input shapes:\s+not known \(not traced\)$/m);
  assert.doesNotMatch(noTrace.stdout, /^Input size/m);
  assert.match(
    noTrace.stdout,
    /^Estimated size \(MB\):\s+1\.00 \(parameters \+ buffers, inputs not known; activations not measured\)$/m,
  );
  // The totals above it are unchanged.
  assert.match(r.stdout, /^Declared params:\s+131,072$/m);
  assert.match(r.stdout, /^Buffers:\s+131,072$/m);
});

test('paramtrace report: in the help, its own --help, and the same option names as analyze', () => {
  assert.match(cli('--help').stdout, /^ {2}report {4}a self-contained HTML page/m);
  const help = cli('report', '--help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: paramtrace report MODEL \[HEAD\] --html OUT\.html/);
  assert.ok(optionsIn(help.stdout).get('html'), 'report --help defines --html OUT.html');
  assert.deepEqual([...exitCodes(help.stdout).keys()], ['0', '1', '2', '3']);
  assert.equal(cli('help', 'report').stdout, help.stdout);
  const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-cli-report-'));
  const out = path.join(dir, 'comparison.html');
  // The action's name of --input reaches the trace: an input the model lacks is refused by name.
  const wrong = cli('report', examples('head.onnx'), '--html', out, '--input-shape', 'nope=1x1');
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /nope: the model has no such input/);
  const ok = cli(
    'report',
    examples('base.onnx'),
    examples('head.onnx'),
    '--html',
    out,
    '--input-shape=input_0=1x1x512x512',
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(readFileSync(out, 'utf8'), /^<!doctype html>/i);
});

test('the compare text renderer: long lists are cut with a count, hostile names stay plain text', async () => {
  const { renderCompareText } = await import('../src/render/compare-text.ts');
  const json = cli('compare', examples('base.onnx'), examples('head.onnx'), '--json', '--no-trace');
  assert.equal(json.status, 0, json.stderr);
  const c = JSON.parse(json.stdout) as Parameters<typeof renderCompareText>[0];
  const added = Array.from({ length: 60 }, (_, i) => ({
    name: `extra.${i}.weight`,
    numel: 60 - i,
    shape: [60 - i],
  }));
  added[0]!.name = '::warning::pwned\u202e';
  const text = renderCompareText({ ...c, added }, { maxRows: 50 });
  assert.match(text, /^50\s+extra\.49\.weight\s+added\s+-\s+\[11\]\s+\+11$/m);
  assert.doesNotMatch(text, /extra\.50\.weight/);
  assert.match(text, /^… and 10 more \(--json lists every one\)$/m);
  // The row's number starts the line, so the name is not at its start; the override is escaped.
  assert.match(text, /^ 1 {3}::warning::pwned\\u202e\s+added/m);
  for (const line of text.split('\n')) assert.doesNotMatch(line, /^::|\u202e/);
});
