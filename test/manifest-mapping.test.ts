// Mapping the graph's initializers to the manifest when the file was not exported with the helper: by name,
// then by content fingerprint (exact or of a 2-D transpose), and saying so in the notes when the two disagree
// instead of guessing.
//
// With PyTorch: models exported with a plain torch.onnx.export (eval mode, constant folding on: transposed
// `onnx::MatMul_N` copies, BatchNormalization folded into `onnx::Conv_N`, LSTM gates repacked into
// `onnx::LSTM_N`), with the helper's manifest attached afterwards (torch_truth.py --plain). In both PyTorch worlds
// (test/support/pythons.ts); on 2.x the plain export asks for the TorchScript exporter (dynamo=False).
// Without PyTorch: a committed fixture with a hand-made manifest attached by the helper's attach().
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyze } from '../src/analysis/analyze.ts';
import { MANIFEST_FORMAT, type Manifest, type ManifestTensor } from '../src/analysis/manifest.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { fixture } from './support/analyze-fixture.ts';
import { attachTexts, ENVS, pythonUnavailable } from './support/torch-truth.ts';

const disagreements = (r: Report): string[] =>
  r.notes.filter((n) => /disagree|map to no manifest|match several|neither by name/.test(n));

for (const env of ENVS) {
  test(`${env.label} plain export, tied embedding: the transposed onnx::MatMul_N copy maps back to emb.weight, counted once`, async (t) => {
    const reason = env.truthUnavailable('tied_embedding');
    if (reason) return t.skip(reason);
    const plain = env.readPlain('tied_embedding');
    const copy = plain.initializers.find((i) => /^onnx::MatMul_\d+$/.test(i.name));
    assert.ok(copy, `the plain export has a transposed MatMul copy: ${JSON.stringify(plain.initializers)}`);
    assert.deepEqual(copy.dims, [16, 100]);

    const report = await analyzeFile(env.plainOnnx('tied_embedding'));
    const truth = env.readTruth('tied_embedding');
    assert.equal(report.source, 'manifest');
    const emb = report.parameters.find((p) => p.name === 'emb.weight');
    assert.ok(emb);
    assert.deepEqual([...emb.storedAs].sort(), ['emb.weight', copy.name].sort());
    assert.deepEqual(emb.aliases, ['head.weight']);
    assert.deepEqual(report.parameters.map((p) => p.name).sort(), ['emb.weight', 'head.bias']);
    assert.deepEqual(
      [report.counts.declared, report.counts.unique, report.counts.summary],
      [truth.declared, truth.unique, truth.summary],
    );
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls]),
      [['emb.weight', 2]],
    );
    assert.deepEqual(report.unused, []);
    assert.deepEqual(disagreements(report), []);
  });

  test(`${env.label} plain export, attention: the transposed onnx::MatMul_N copy of a Linear weight maps to attn.in_proj_weight; repacked LSTM weights are stated, not guessed`, async (t) => {
    const reason = env.truthUnavailable('lstm_attention');
    if (reason) return t.skip(reason);
    const plain = env.readPlain('lstm_attention');
    const copy = plain.initializers.find((i) => /^onnx::MatMul_\d+$/.test(i.name));
    assert.ok(copy, `the plain export has a transposed MatMul copy: ${JSON.stringify(plain.initializers)}`);
    assert.deepEqual(copy.dims, [32, 96]);
    const packed = plain.initializers.filter((i) => /^onnx::LSTM_\d+$/.test(i.name)).map((i) => i.name);
    assert.equal(packed.length, 3);

    const report = await analyzeFile(env.plainOnnx('lstm_attention'));
    const truth = env.readTruth('lstm_attention');
    const inProj = report.parameters.find((p) => p.name === 'attn.in_proj_weight');
    assert.ok(inProj);
    assert.deepEqual(inProj.storedAs, [copy.name]);
    assert.deepEqual(inProj.shape, [96, 32], "PyTorch's shape, not the transposed copy's");
    assert.ok(inProj.used);

    // The LSTM's weights were reordered and concatenated by the exporter: no name, no fingerprint matches.
    const lstm = ['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0'];
    const unmappedNote = report.notes.find((n) =>
      n.startsWith('Initializers that map to no manifest tensor'),
    );
    assert.ok(unmappedNote, report.notes.join('\n'));
    for (const name of packed) assert.ok(unmappedNote.includes(name), `${name} is named in: ${unmappedNote}`);
    const missingNote = report.notes.find((n) => /neither by name nor by value/.test(n));
    assert.ok(missingNote, report.notes.join('\n'));
    for (const name of lstm) assert.ok(missingNote.includes(name), `${name} is named in: ${missingNote}`);
    assert.match(missingNote, /paramtrace_torch\.py/);
    assert.deepEqual(report.unused.map((u) => u.name).sort(), [...lstm].sort());
    const lstmNumel = truth.parameters.filter((p) => lstm.includes(p.name)).reduce((n, p) => n + p.numel, 0);
    assert.equal(report.counts.declared, truth.declared);
    assert.equal(report.counts.unique, truth.unique - lstmNumel);
    // Nothing else is guessed: every mapped parameter is mapped to a tensor of its own shape (or its transpose).
    assert.ok(!report.notes.some((n) => /disagree/.test(n)));
  });

  test(`${env.label} plain export, fresh BatchNorm: BN-folded onnx::Conv_N weights map to nothing and the notes say so`, async (t) => {
    const reason = env.truthUnavailable('fresh_bn');
    if (reason) return t.skip(reason);
    const plain = env.readPlain('fresh_bn');
    const folded = plain.initializers.map((i) => i.name);
    assert.ok(folded.length > 0 && folded.every((n) => /^onnx::Conv_\d+$/.test(n)), JSON.stringify(folded));

    const report = await analyzeFile(env.plainOnnx('fresh_bn'));
    const truth = env.readTruth('fresh_bn');
    assert.equal(report.source, 'manifest');
    assert.equal(report.counts.declared, truth.declared);
    // No folded weight is passed off as a PyTorch parameter.
    assert.ok(
      report.parameters.every((p) => p.storedAs.length === 0),
      JSON.stringify(report.parameters.map((p) => p.storedAs)),
    );
    assert.equal(report.counts.unique, 0);
    const unmappedNote = report.notes.find((n) =>
      n.startsWith('Initializers that map to no manifest tensor'),
    );
    assert.ok(unmappedNote, report.notes.join('\n'));
    for (const name of folded) assert.ok(unmappedNote.includes(name), `${name} is named in: ${unmappedNote}`);
    const missingNote = report.notes.find((n) => /neither by name nor by value/.test(n));
    assert.ok(missingNote);
    assert.match(missingNote, /BatchNormalization into Conv/);
    for (const p of truth.parameters)
      assert.ok(missingNote.includes(p.name), `${p.name} is named in: ${missingNote}`);
    assert.deepEqual(report.shared, []);
  });
}

// --- Without PyTorch: seed-case-1.onnx (conv1.weight and conv2.weight, [1, 1, 3, 3] each) with a manifest made here.

const work = mkdtempSync(join(tmpdir(), 'paramtrace-manifest-map-'));
after(() => rmSync(work, { recursive: true, force: true }));

const SEED1 = fixture('seed-case-1.onnx');

function seedTensors(): { name: string; dims: number[]; dtype: string; fingerprint: string }[] {
  const model = readModel(SEED1);
  const content = new TensorReader(model);
  try {
    return model.graph.initializers.map((t) => ({
      name: t.name,
      dims: t.dims,
      dtype: t.dataType,
      fingerprint: `sha256:${content.fingerprint(t)}`,
    }));
  } finally {
    content.close();
  }
}

function entry(name: string, shape: number[], fingerprint: string, dtype = 'float32'): ManifestTensor {
  return {
    name,
    aliases: [],
    kind: 'parameter',
    shape,
    dtype,
    numel: shape.reduce((a, b) => a * b, 1),
    requiresGrad: true,
    fingerprint,
    module: name.slice(0, name.lastIndexOf('.')),
    moduleClass: 'Conv2d',
  };
}

function manifestOf(tensors: ManifestTensor[]): Manifest {
  return {
    format: MANIFEST_FORMAT,
    torchVersion: 'test',
    exporter: 'none',
    opset: null,
    exportSettings: {},
    altered: [],
    modelClass: 'SeedCase1',
    tensors,
  };
}

/** The fixture with each manifest attached; analyzed. */
async function withManifests(manifests: Record<string, Manifest>): Promise<Record<string, Report>> {
  const jobs = Object.entries(manifests).map(([key, m]) => ({
    from: SEED1,
    to: join(work, `${key}.onnx`),
    text: JSON.stringify(m),
  }));
  attachTexts(jobs);
  const out: Record<string, Report> = {};
  for (const key of Object.keys(manifests)) out[key] = await analyzeFile(join(work, `${key}.onnx`));
  return out;
}

test('fixture with a manifest: by name, by fingerprint, and disagreements stated', async (t) => {
  const reason = pythonUnavailable();
  if (reason) return t.skip(reason);
  const init = seedTensors();
  const [c1, c2] = [
    init.find((i) => i.name === 'conv1.weight')!,
    init.find((i) => i.name === 'conv2.weight')!,
  ];
  assert.ok(c1 && c2);
  assert.deepEqual(c1.dims, [1, 1, 3, 3]);

  const r = await withManifests({
    // The names the graph uses.
    byName: manifestOf([
      entry('conv1.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('conv2.weight', [1, 1, 3, 3], c2.fingerprint),
    ]),
    // Other names, same contents: renamed copies map back by fingerprint.
    byFingerprint: manifestOf([
      entry('features.0.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('features.1.weight', [1, 1, 3, 3], c2.fingerprint),
    ]),
    // Same name, other shape: stated; the manifest's size is what PyTorch declared.
    shapeByName: manifestOf([
      entry('conv1.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('conv2.weight', [1, 1, 9, 1], c2.fingerprint),
    ]),
    // Same bytes, other shape, other name: not mapped, stated.
    shapeByValue: manifestOf([
      entry('conv1.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('head.weight', [9], c2.fingerprint),
    ]),
    // Two manifest tensors with conv1's contents: which one it is cannot be told.
    ambiguous: manifestOf([
      entry('a.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('b.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('conv2.weight', [1, 1, 3, 3], c2.fingerprint),
    ]),
    // Right name and shape, another dtype by value: a float64 tensor with these bytes would be another tensor.
    dtypeByValue: manifestOf([
      entry('conv1.weight', [1, 1, 3, 3], c1.fingerprint),
      entry('x.weight', [1, 1, 3, 3], c2.fingerprint, 'float16'),
    ]),
  });

  for (const report of Object.values(r)) assert.equal(report.source, 'manifest');

  assert.deepEqual(
    [r.byName!.counts.declared, r.byName!.counts.unique, r.byName!.counts.summary],
    [18, 18, 18],
  );
  assert.deepEqual(r.byName!.notes, []);

  const fp = r.byFingerprint!;
  assert.deepEqual(
    fp.parameters.map((p) => [p.name, p.storedAs]),
    [
      ['features.0.weight', ['conv1.weight']],
      ['features.1.weight', ['conv2.weight']],
    ],
  );
  assert.deepEqual([fp.counts.declared, fp.counts.unique, fp.counts.summary], [18, 18, 18]);
  assert.deepEqual(fp.unused, []);
  assert.deepEqual(disagreements(fp), []);

  const sn = r.shapeByName!;
  assert.deepEqual(disagreements(sn), [
    "Manifest and graph disagree on 'conv2.weight': the manifest says shape [1, 1, 9, 1], initializer 'conv2.weight' has [1, 1, 3, 3]; the manifest's size is counted.",
  ]);
  assert.deepEqual(sn.parameters.find((p) => p.name === 'conv2.weight')!.shape, [1, 1, 9, 1]);
  assert.equal(sn.counts.declared, 18);

  const sv = r.shapeByValue!;
  assert.deepEqual(sv.parameters.find((p) => p.name === 'head.weight')!.storedAs, []);
  assert.deepEqual(
    sv.unused.map((u) => [u.name, u.reason]),
    [['head.weight', 'not-exported']],
  );
  assert.deepEqual([sv.counts.declared, sv.counts.unique], [18, 9]);
  const svNotes = disagreements(sv);
  assert.ok(
    svNotes.some((n) =>
      n.includes(
        "conv2.weight [1, 1, 3, 3] (same bytes as 'head.weight' but float32 [1, 1, 3, 3] where the manifest says float32 [9])",
      ),
    ),
    svNotes.join('\n'),
  );
  assert.ok(
    svNotes.some((n) => /neither by name nor by value.*head\.weight/.test(n)),
    svNotes.join('\n'),
  );

  const am = r.ambiguous!;
  assert.ok(
    am.notes.some(
      (n) =>
        n.includes('values match several manifest tensors') &&
        n.includes('conv1.weight (a.weight, b.weight)'),
    ),
    am.notes.join('\n'),
  );
  assert.deepEqual(
    am.parameters.map((p) => [p.name, p.storedAs]),
    [
      ['a.weight', []],
      ['b.weight', []],
      ['conv2.weight', ['conv2.weight']],
    ],
  );

  const dt = r.dtypeByValue!;
  assert.deepEqual(dt.parameters.find((p) => p.name === 'x.weight')!.storedAs, []);
  assert.ok(
    disagreements(dt).some((n) =>
      n.includes(
        "conv2.weight [1, 1, 3, 3] (same bytes as 'x.weight' but float32 [1, 1, 3, 3] where the manifest says float16 [1, 1, 3, 3])",
      ),
    ),
    dt.notes.join('\n'),
  );
});

test('fixture with a manifest: an initializer no manifest tensor could equal by length is never read whole', () => {
  const model = readModel(SEED1);
  const reader = new TensorReader(model);
  const hashed: string[] = [];
  const content = {
    fingerprint: (t: Parameters<TensorReader['fingerprint']>[0]) => (
      hashed.push(t.name),
      reader.fingerprint(t)
    ),
    transposedFingerprint: (t: Parameters<TensorReader['fingerprint']>[0]) => (
      hashed.push(`${t.name}ᵀ`),
      reader.transposedFingerprint(t)
    ),
    isUniform: (t: Parameters<TensorReader['fingerprint']>[0]) => reader.isUniform(t),
    // The duplicate finder's sampled prefilter, so that only the manifest mapping hashes.
    sampleKey: reader.sampleKey.bind(reader),
    transposedSampleKey: reader.transposedSampleKey.bind(reader),
    sameContent: reader.sameContent.bind(reader),
    isTransposeOf: reader.isTransposeOf.bind(reader),
    distinctValues: reader.distinctValues.bind(reader),
  };
  try {
    const conv1 = model.graph.initializers.find((t) => t.name === 'conv1.weight')!;
    const c1 = `sha256:${reader.fingerprint(conv1)}`;
    // conv2.weight is unnamed in the first manifest, and 36 bytes long where its tensors are 36 and 16.
    const renamed = analyze({
      model,
      content,
      manifest: manifestOf([entry('conv1.weight', [1, 1, 3, 3], c1), entry('features.1.weight', [4], c1)]),
    });
    assert.deepEqual(hashed, ['conv2.weight'], 'conv2.weight shares a length with conv1.weight: hashed');
    assert.deepEqual(renamed.parameters.find((p) => p.name === 'features.1.weight')!.storedAs, []);

    // No manifest tensor is 36 bytes long: conv2.weight cannot hold one's bytes and is not read.
    hashed.length = 0;
    const other = analyze({
      model,
      content,
      manifest: manifestOf([
        { ...entry('conv1.weight', [3, 3], c1), dtype: 'float16' },
        entry('head.weight', [4], c1),
      ]),
    });
    assert.deepEqual(hashed, []);
    assert.match(other.notes.join('\n'), /map to no manifest tensor.*conv2\.weight \[1, 1, 3, 3\]/);
  } finally {
    reader.close();
  }
});
