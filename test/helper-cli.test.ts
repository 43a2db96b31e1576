// The helper's command line, as a build step runs it: `python3 python/paramtrace_torch.py --model
// package.module:factory --input SHAPE[:DTYPE] -o model.onnx`. A good spec writes a faithful file with the
// manifest; a bad one exits 2 with one line on stderr and no traceback.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { HELPER, PYTHON, ROOT, torchUnavailable } from './support/torch-truth.ts';

const work = mkdtempSync(join(tmpdir(), 'paramtrace-helper-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The helper's CLI, run from the repository root (so that `test.support.torch_models` resolves there). */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [HELPER, ...args], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const MODELS = 'test.support.torch_models';

test('CLI: a factory from test/support/torch_models.py exports seed case 3 with its manifest', async (t) => {
  const reason = torchUnavailable();
  if (reason) return t.skip(reason);
  const out = join(work, 'seed3.onnx');
  const r = await cli(['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    r.stdout,
    `${out}: SeedCase3, 18 declared parameters in 2 tensors, torchscript exporter, opset 14\n`,
  );
  assert.ok(!/Traceback/.test(r.stderr), r.stderr);

  const report = await analyzeFile(out);
  assert.equal(report.source, 'manifest');
  assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [18, 9, 18]);
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['conv1.weight', 2]],
  );
  assert.deepEqual(
    report.unused.map((u) => [u.name, u.reason, u.numel]),
    [['conv2.weight', 'not-exported', 9]],
  );
});

test('CLI: an integer input (tokens) and a tied embedding', async (t) => {
  const reason = torchUnavailable();
  if (reason) return t.skip(reason);
  const out = join(work, 'tied.onnx');
  const r = await cli(['--model', `${MODELS}:TiedEmbedding`, '--input', '1x8:int64', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: TiedEmbedding, 1,700 declared parameters in 2 tensors, /);
  const report = await analyzeFile(out);
  assert.deepEqual(
    report.parameters.map((p) => [p.name, p.aliases, p.storedAs]),
    [
      ['emb.weight', ['head.weight'], ['emb.weight']],
      ['head.bias', [], ['head.bias']],
    ],
  );
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['emb.weight', 2]],
  );
});

test('CLI: --manifest-only prints the manifest JSON', async (t) => {
  const reason = torchUnavailable();
  if (reason) return t.skip(reason);
  const r = await cli(['--model', `${MODELS}:SeedCase3`, '--manifest-only']);
  assert.equal(r.status, 0, r.stderr);
  const manifest = JSON.parse(r.stdout) as {
    format: string;
    tensors: { name: string; numel: number; kind: string }[];
  };
  assert.equal(manifest.format, 'paramtrace.manifest/1');
  assert.deepEqual(
    manifest.tensors.map((x) => [x.name, x.kind, x.numel]),
    [
      ['conv1.weight', 'parameter', 9],
      ['conv2.weight', 'parameter', 9],
    ],
  );
});

const BAD: [string, string[], RegExp][] = [
  [
    'no colon in --model',
    ['--model', 'nocolon', '--input', '1x1x16x16', '-o', 'x.onnx'],
    /bad --model 'nocolon': expected package\.module:factory$/,
  ],
  [
    'an unknown factory',
    ['--model', `${MODELS}:NoSuchFactory`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /'test\.support\.torch_models' has no attribute 'NoSuchFactory'$/,
  ],
  [
    'an unknown module',
    ['--model', 'no_such_module_xyz:make', '--input', '1x1x16x16', '-o', 'x.onnx'],
    /cannot import 'no_such_module_xyz': ModuleNotFoundError: /,
  ],
  [
    'a factory that is not callable',
    ['--model', `${MODELS}:MODELS`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /is not callable$/,
  ],
  [
    'a factory that returns no module',
    ['--model', `${MODELS}:_seed_input`, '--input', '1x1x16x16', '-o', 'x.onnx'],
    /returned tuple, not a torch\.nn\.Module$/,
  ],
  [
    'a malformed --input',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1xx16', '-o', 'x.onnx'],
    /bad --input '1xx16': expected dimensions like 1x3x224x224/,
  ],
  [
    'an unknown input dtype',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16:complex', '-o', 'x.onnx'],
    /bad --input '1x1x16x16:complex': unknown dtype 'complex'/,
  ],
  ['no -o', ['--model', `${MODELS}:SeedCase3`, '--input', '1x1x16x16'], /-o\/--output is required/],
  ['no --model', ['--input', '1x1x16x16', '-o', 'x.onnx'], /the following arguments are required: --model$/],
  [
    'an input the model rejects',
    ['--model', `${MODELS}:SeedCase3`, '--input', '1x3x16x16', '-o', join(work, 'bad.onnx')],
    /torch\.onnx\.export failed: RuntimeError: .*expected input\[1, 3, 16, 16\] to have 1 channels/,
  ],
];

test('CLI: a bad spec exits 2 with one line on stderr and no traceback', async (t) => {
  const reason = torchUnavailable();
  if (reason) return t.skip(reason);
  // Two at a time: each run imports PyTorch (about 1.5 s).
  const results: Run[] = [];
  for (let i = 0; i < BAD.length; i += 2)
    results.push(...(await Promise.all(BAD.slice(i, i + 2).map(([, args]) => cli(args)))));
  BAD.forEach(([what, , message], i) => {
    const r = results[i]!;
    assert.equal(r.status, 2, `${what}: exit status (stderr: ${r.stderr})`);
    assert.equal(r.stdout, '', `${what}: nothing on stdout`);
    assert.ok(!/Traceback/.test(r.stderr), `${what}: no traceback:\n${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `${what}: one line on stderr:\n${r.stderr}`);
    assert.ok(lines[0]!.startsWith('paramtrace_torch: error: '), `${what}: ${lines[0]}`);
    assert.match(lines[0]!, message, what);
  });
});
