// The reader and the duplicate search that never hold all weights: the same model stored four ways
// (weights in the file as raw_data or as float_data, in one external data file, in one file per tensor)
// gives the same report; the sampled prefilter still finds exact and transposed copies, and a
// near-copy whose samples agree is told apart by the full comparison. Correctness only: nothing timed.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { TensorContent } from '../src/analysis/analyze.ts';
import { findDuplicates } from '../src/analysis/duplicates.ts';
import { walkModel } from '../src/analysis/graph-walk.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { encodeModel, tensorInfo as valueInfo } from './support/onnx-reflection.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { checkReport } from '../src/report/validate.ts';
import { fixture } from './support/analyze-fixture.ts';

const work = mkdtempSync(path.join(tmpdir(), 'paramtrace-layouts-'));
after(() => rmSync(work, { recursive: true, force: true }));

const FLOAT = 1;
const INT64 = 7;
// Weights over 64 KiB (130 x 130 float32), so that their keys are sampled; smaller tensors are read whole.
const D = 130;
const V = 160;

interface Weight {
  name: string;
  dims: number[];
  values: Float32Array;
}

/** Seeded values in [-1, 1). */
function random(count: number, seed: number): Float32Array {
  let state = seed;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state / 2 ** 31 - 1;
  }
  return out;
}

function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

/**
 * ids -> Gather(emb) -> MatMul(layers.0) -> Add -> MatMul(layers.1) -> Add -> MatMul(layers.2)
 * -> MatMul(layers.3) -> MatMul(head): layers.1 is a copy of layers.0, head is emb transposed,
 * layers.3 is layers.2 with one element changed (not a sampled one), two biases are all zeros.
 */
function weights(): Weight[] {
  const emb = random(V * D, 1);
  const w0 = random(D * D, 2);
  const w2 = random(D * D, 3);
  const w3 = Float32Array.from(w2);
  w3[1000] = 42;
  return [
    { name: 'emb.weight', dims: [V, D], values: emb },
    { name: 'layers.0.weight', dims: [D, D], values: w0 },
    { name: 'layers.0.bias', dims: [D], values: new Float32Array(D) },
    { name: 'layers.1.weight', dims: [D, D], values: Float32Array.from(w0) },
    { name: 'layers.1.bias', dims: [D], values: new Float32Array(D) },
    { name: 'layers.2.weight', dims: [D, D], values: w2 },
    { name: 'layers.3.weight', dims: [D, D], values: w3 },
    { name: 'onnx::MatMul_9', dims: [D, V], values: transpose(emb, V, D) },
  ];
}

type Layout = 'raw' | 'float-data' | 'external-one' | 'external-per-tensor';

function writeModel(layout: Layout): string {
  const folder = path.join(work, layout);
  mkdirSync(folder, { recursive: true });
  const initializer: object[] = [];
  const oneFile: Buffer[] = [];
  let offset = 0;
  for (const w of weights()) {
    const bytes = Buffer.from(w.values.buffer, w.values.byteOffset, w.values.byteLength);
    const base = { name: w.name, data_type: FLOAT, dims: w.dims };
    if (layout === 'raw') initializer.push({ ...base, raw_data: bytes });
    else if (layout === 'float-data') initializer.push({ ...base, float_data: [...w.values] });
    else {
      const location = layout === 'external-one' ? 'model.weights' : `${w.name.replace(/:/g, '_')}.bin`;
      if (layout === 'external-one') oneFile.push(bytes);
      else writeFileSync(path.join(folder, location), bytes);
      const entries = { location, ...(layout === 'external-one' ? { offset: String(offset) } : {}) };
      initializer.push({
        ...base,
        data_location: 1,
        external_data: Object.entries({ ...entries, length: String(bytes.length) }).map(([key, value]) => ({
          key,
          value,
        })),
      });
      offset += bytes.length;
    }
  }
  if (layout === 'external-one') writeFileSync(path.join(folder, 'model.weights'), Buffer.concat(oneFile));
  const node = (op: string, input: string[], output: string, name: string): object => ({
    op_type: op,
    input,
    output: [output],
    name,
  });
  const graph = {
    name: 'layouts',
    node: [
      node('Gather', ['emb.weight', 'ids'], 'x', '/emb/Gather'),
      node('MatMul', ['x', 'layers.0.weight'], 'm0', '/layers.0/MatMul'),
      node('Add', ['m0', 'layers.0.bias'], 'h0', '/layers.0/Add'),
      node('MatMul', ['h0', 'layers.1.weight'], 'm1', '/layers.1/MatMul'),
      node('Add', ['m1', 'layers.1.bias'], 'h1', '/layers.1/Add'),
      node('MatMul', ['h1', 'layers.2.weight'], 'h2', '/layers.2/MatMul'),
      node('MatMul', ['h2', 'layers.3.weight'], 'h3', '/layers.3/MatMul'),
      node('MatMul', ['h3', 'onnx::MatMul_9'], 'logits', '/head/MatMul'),
    ],
    initializer,
    input: [valueInfo('ids', INT64, [1, 4])],
    output: [valueInfo('logits', FLOAT, [1, 4, V])],
  };
  const file = path.join(folder, 'model.onnx');
  writeFileSync(file, encodeModel(graph));
  return file;
}

/** What may differ between storage layouts of one model: the file, its size and the timings. */
function comparable(report: Report): unknown {
  const { timings: _timings, model, ...rest } = report;
  return { ...rest, model: { ...model, file: '', sizeBytes: 0 } };
}

const LAYOUTS: Layout[] = ['raw', 'float-data', 'external-one', 'external-per-tensor'];

test('one model stored four ways (in the file, float_data, external one file, per tensor): the same report', async () => {
  const files = LAYOUTS.map(writeModel);
  const kinds = files.map((f) => readModel(f).graph.initializers[0]!.data.kind);
  assert.deepEqual(kinds, ['in-file', 'in-file', 'external', 'external']);
  const reports = await Promise.all(files.map((f) => analyzeFile(f, { trace: false })));
  const [first, ...others] = reports.map(comparable);
  for (const [i, other] of others.entries()) assert.deepEqual(other, first, LAYOUTS[i + 1]);

  const report = reports[0]!;
  assert.deepEqual(
    report.duplicates.map((d) => [d.names, d.transposed]),
    [[['emb.weight', 'onnx::MatMul_9'], true]],
    'the transposed copy, not the near-copy, not the zero biases',
  );
  // The named copy is found (its bytes read in every layout) and noted, but two names are two parameters.
  assert.ok(
    report.notes.some((n) => n.includes('identical values (layers.0.weight = layers.1.weight)')),
    report.notes.join('\n'),
  );
  assert.equal(report.counts.declared, V * D + 4 * D * D + 2 * D);
  // Timings: every phase of a static analysis, valid against the report schema.
  assert.deepEqual(
    report.timings?.map((t) => t.phase),
    ['read', 'fingerprint', 'analyze', 'cost'],
  );
  for (const t of report.timings!) assert.ok(t.ms >= 0 && t.peakRssBytes > 0);
  checkReport(JSON.parse(JSON.stringify(report)), 'report');
  const { timings: _timings, ...withoutTimings } = report;
  checkReport(JSON.parse(JSON.stringify(withoutTimings)), 'a report without timings (older versions)');
});

test('sampled keys: copies agree; a near-copy agrees on its samples but not in full', () => {
  const model = readModel(writeModel('raw'));
  const reader = new TensorReader(model);
  const t = (name: string) => model.graph.initializers.find((i) => i.name === name)!;
  try {
    assert.deepEqual(reader.sampleKey(t('layers.0.weight')), reader.sampleKey(t('layers.1.weight')));
    assert.equal(reader.sampleKey(t('layers.0.weight')).exact, false, 'sampled, not read whole');
    assert.equal(reader.sampleKey(t('layers.0.bias')).exact, true, 'a small tensor is read whole');
    assert.deepEqual(reader.transposedSampleKey(t('emb.weight')), reader.sampleKey(t('onnx::MatMul_9')));
    assert.ok(reader.isTransposeOf(t('emb.weight'), t('onnx::MatMul_9')));
    assert.equal(reader.transposedFingerprint(t('emb.weight')), reader.fingerprint(t('onnx::MatMul_9')));
    // The changed element is not sampled: only the full comparison tells the two apart.
    assert.deepEqual(reader.sampleKey(t('layers.2.weight')), reader.sampleKey(t('layers.3.weight')));
    assert.equal(reader.sameContent(t('layers.2.weight'), t('layers.3.weight')), false);
    assert.equal(reader.sameContent(t('layers.0.weight'), t('layers.1.weight')), true);
    assert.equal(reader.isUniform(t('layers.0.bias')), true);
    assert.equal(reader.isUniform(t('layers.0.weight')), false);
  } finally {
    reader.close();
  }
});

test('the prefilter finds the tied embedding stored transposed (PyTorch export fixture)', () => {
  const model = readModel(fixture('tied-embedding.onnx'));
  const reader = new TensorReader(model);
  try {
    const walk = walkModel(model);
    const found = findDuplicates([...walk.constants.values()], reader);
    assert.deepEqual(
      found.findings.map((f) => [f.names, f.transposed]),
      [[['emb.weight', 'onnx::MatMul_6'], true]],
    );
    // Without the prefilter (full fingerprints as the keys: exact, up to sha256), the same finding.
    const plain: TensorContent = {
      fingerprint: (t) => reader.fingerprint(t),
      transposedFingerprint: (t) => reader.transposedFingerprint(t),
      isUniform: (t) => reader.isUniform(t),
      sampleKey: (t) => ({ key: reader.fingerprint(t), exact: true }),
      transposedSampleKey: (t) => {
        const key = reader.transposedFingerprint(t);
        return key === undefined ? undefined : { key, exact: true };
      },
      sameContent: (a, b) => reader.fingerprint(a) === reader.fingerprint(b),
      isTransposeOf: (t, o) => reader.transposedFingerprint(t) === reader.fingerprint(o),
      distinctValues: (t, r) => reader.distinctValues(t, r),
    };
    assert.deepEqual(findDuplicates([...walk.constants.values()], plain).findings, found.findings);
  } finally {
    reader.close();
  }
});

test('transposes of every element size and of shapes that fill no tile: equal to a plain transpose', () => {
  // ONNX data types by element size: uint8 (2), float16 (10), float32 (1), int64 (7).
  const types = [
    [2, 1],
    [10, 2],
    [1, 4],
    [7, 8],
  ] as const;
  const shapes = [
    [1, 5],
    [3, 130],
    [67, 203],
    [130, 3],
    [257, 66],
  ] as const;
  for (const [dataType, unit] of types) {
    for (const [rows, cols] of shapes) {
      const bytes = Buffer.alloc(rows * cols * unit);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
      const transposed = Buffer.alloc(bytes.length);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++)
          bytes.copy(transposed, (c * rows + r) * unit, (r * cols + c) * unit, (r * cols + c + 1) * unit);
      }
      const changed = Buffer.from(transposed);
      changed[changed.length - 1]! ^= 1;
      const file = path.join(work, `t-${dataType}-${rows}x${cols}.onnx`);
      const tensor = (name: string, dims: readonly number[], raw: Buffer): object => ({
        name,
        data_type: dataType,
        dims,
        raw_data: raw,
      });
      writeFileSync(
        file,
        encodeModel({
          name: 't',
          initializer: [
            tensor('a', [rows, cols], bytes),
            tensor('b', [cols, rows], transposed),
            tensor('c', [cols, rows], changed),
          ],
        }),
      );
      const model = readModel(file);
      const [a, b, c] = model.graph.initializers;
      const reader = new TensorReader(model);
      try {
        const what = `${unit}-byte ${rows}x${cols}`;
        assert.equal(reader.transposedFingerprint(a!), reader.fingerprint(b!), what);
        assert.equal(reader.isTransposeOf(a!, b!), true, what);
        assert.equal(reader.isTransposeOf(a!, c!), false, what);
        assert.equal(reader.isTransposeOf(b!, a!), true, what);
      } finally {
        reader.close();
      }
    }
  }
});
