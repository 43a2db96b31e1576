// A manifest is untrusted input: malformed metadata is a ManifestError with a one-line message that names the
// file and the problem, never a crash or a silent graph-only report. The ONNX files are a committed fixture with
// bad metadata embedded by the helper's own attach() (Python, no PyTorch needed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ManifestError } from '../src/analysis/read-manifest.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { fixture } from './support/analyze-fixture.ts';
import { attachTexts, pythonUnavailable, ROOT } from './support/torch-truth.ts';

const GOOD_TENSOR = {
  name: 'conv1.weight',
  aliases: [],
  kind: 'parameter',
  shape: [1, 1, 3, 3],
  dtype: 'float32',
  numel: 9,
  requiresGrad: true,
  fingerprint: 'sha256:00',
  module: 'conv1',
  moduleClass: 'Conv2d',
};
const manifestWith = (tensors: unknown[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    format: 'paramtrace.manifest/1',
    torchVersion: '1.13',
    exporter: 'none',
    opset: null,
    exportSettings: {},
    altered: [],
    modelClass: 'M',
    tensors,
    ...extra,
  });

/** name → [metadata text, what the message must say]. */
const CASES: Record<string, [string, RegExp]> = {
  'not JSON': [
    '{"format": "paramtrace.manifest/1", tensors: [',
    /the paramtrace\.manifest metadata is not valid JSON: /,
  ],
  'JSON null': ['null', /the paramtrace\.manifest metadata is not a JSON object \(it is null\)$/],
  'a JSON array': ['[1, 2]', /is not a JSON object \(it is an array\)$/],
  'a JSON string': ['"paramtrace.manifest/1"', /is not a JSON object \(it is a string\)$/],
  'wrong format': [
    JSON.stringify({ format: 'paramtrace.manifest/2', tensors: [] }),
    /has format 'paramtrace\.manifest\/2', expected 'paramtrace\.manifest\/1'$/,
  ],
  'no format': [JSON.stringify({ tensors: [] }), /has format \(none\), expected 'paramtrace\.manifest\/1'$/],
  'no tensors': [JSON.stringify({ format: 'paramtrace.manifest/1' }), /lists no tensors/],
  'a negative dimension': [
    manifestWith([GOOD_TENSOR, { ...GOOD_TENSOR, name: 'conv2.weight', shape: [-1, 3], numel: -3 }]),
    /tensor #1 \('conv2\.weight'\) has shape \[-1, 3\]: dimension -1 is not a non-negative integer$/,
  ],
  'a fractional dimension': [
    manifestWith([{ ...GOOD_TENSOR, shape: [1.5, 2], numel: 3 }]),
    /tensor #0 \('conv1\.weight'\) has shape \[1\.5, 2\]: dimension 1\.5 is not a non-negative integer$/,
  ],
  'a string dimension': [
    manifestWith([{ ...GOOD_TENSOR, shape: ['3', 3], numel: 9 }]),
    /has shape \["3", 3\]: dimension "3" is not a non-negative integer$/,
  ],
  'numel disagreeing with the shape': [
    manifestWith([{ ...GOOD_TENSOR, numel: 10 }]),
    /tensor #0 \('conv1\.weight'\) has numel 10, but its shape \[1, 1, 3, 3\] holds 9 elements$/,
  ],
  'an unknown kind': [
    manifestWith([{ ...GOOD_TENSOR, kind: 'weight' }]),
    /has kind "weight", expected 'parameter' or 'buffer'$/,
  ],
  'no requiresGrad': [
    manifestWith([{ ...GOOD_TENSOR, requiresGrad: undefined }]),
    /has requiresGrad undefined, expected true or false$/,
  ],
  'a tensor that is not an object': [manifestWith([GOOD_TENSOR, 7]), /tensor #1 is not an object$/],
  'a tensor without a name': [manifestWith([{ ...GOOD_TENSOR, name: '' }]), /tensor #0 has no name$/],
  'one name for two tensors': [
    manifestWith([GOOD_TENSOR, { ...GOOD_TENSOR, name: 'conv2.weight', aliases: ['conv1.weight'] }]),
    /names 'conv1\.weight' twice \(tensors 'conv1\.weight' and 'conv2\.weight'\)/,
  ],
  'a newline in the bad text': ['{\n  "format": \n}', /is not valid JSON/],
};

const work = mkdtempSync(join(tmpdir(), 'paramtrace-bad-manifest-'));
const file = (name: string): string => join(work, `${name.replace(/[^a-z0-9]+/gi, '-')}.onnx`);
let unavailable: string | undefined;

before(() => {
  unavailable = pythonUnavailable();
  if (unavailable) return;
  attachTexts([
    ...Object.entries(CASES).map(([name, [text]]) => ({
      from: fixture('seed-case-1.onnx'),
      to: file(name),
      text,
    })),
    { from: fixture('seed-case-1.onnx'), to: file('good'), text: manifestWith([GOOD_TENSOR]) },
  ]);
});
after(() => rmSync(work, { recursive: true, force: true }));

for (const [name, [, message]] of Object.entries(CASES)) {
  test(`malformed manifest, ${name}: ManifestError naming the file and the problem`, async (t) => {
    if (unavailable) return t.skip(unavailable);
    await assert.rejects(analyzeFile(file(name)), (error: unknown) => {
      assert.ok(error instanceof ManifestError, `a ManifestError, not ${String(error)}`);
      assert.equal(error.file, file(name));
      assert.ok(error.message.startsWith(`${file(name)}: the paramtrace.manifest metadata`), error.message);
      assert.match(error.message, message);
      assert.ok(!/[\r\n]/.test(error.message), `one line: ${JSON.stringify(error.message)}`);
      return true;
    });
  });
}

test('a well-formed manifest on the same file is read', async (t) => {
  if (unavailable) return t.skip(unavailable);
  const report = await analyzeFile(file('good'));
  assert.equal(report.source, 'manifest');
  assert.deepEqual(
    report.parameters.map((p) => [p.name, p.storedAs]),
    [['conv1.weight', ['conv1.weight']]],
  );
});

test('the CLI turns a malformed manifest into one line on stderr and exit status 2', (t) => {
  if (unavailable) return t.skip(unavailable);
  const bad = file('a negative dimension');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'analyze', bad], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `paramtrace: ${bad}: the paramtrace.manifest metadata's tensor #1 ('conv2.weight') has shape [-1, 3]: dimension -1 is not a non-negative integer\n`,
  );
});
