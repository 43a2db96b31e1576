// The dynamo exporter's files (PyTorch 2.9+'s default torch.onnx.export), each analyzed from the graph alone and
// traced for real, against PyTorch's own truth (test/fixtures/dynamo/NAME.expect.json, written with the files by
// scripts/make_dynamo_fixtures.py): unique, summary-style, shared parameters and their calls, and declared
// where the file can know it. The dynamo exporter's metadata names a module, not its call; the calls paramtrace
// tells apart by parameter reuse (call-names.ts, splitRepeatedCalls) are asserted by name.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { FIXTURES } from './support/analyze-fixture.ts';

const DIR = path.join(FIXTURES, 'dynamo');

type Counts = { declared: number; unique: number; summary: number };

interface DynamoExpect {
  description: string;
  torch: Counts & { shared: Record<string, number>; unused: string[] };
  /** Where the file cannot show PyTorch's count: the graph's, and why (`notes`). */
  graph?: Partial<Counts> & { notes: string };
  /** Graph input name -> .npy file beside the model. */
  inputs: Record<string, string>;
  /** Initializer name -> the PyTorch parameter it stores (equal or transposed); generated names are `val_N`. */
  torchNames: Record<string, string>;
}

/**
 * The layer calls with parameters each file must give, in graph order: a second call of a module the dynamo
 * metadata names alike is `conv1_1`, a third `_2` (TorchScript's naming).
 */
const CALLS: Record<string, string[]> = {
  'seed-case-1': ['conv1', 'conv2'],
  'seed-case-2': ['conv1', 'conv1_1'],
  'seed-case-3': ['conv1', 'conv1_1'],
  'tied-embedding': ['emb', 'head'],
  'albert-shared': ['', '_1', '_2'].flatMap((k) =>
    ['norm1', 'qkv', 'out', 'norm2', 'fc1', 'fc2'].map((m) => `layer.${m}${k}`),
  ),
  siamese: ['encoder.0', 'encoder.3', 'encoder.0_1', 'encoder.3_1', 'head'],
  lstm: ['lstm', 'head'],
  'vit-block': ['patch', '(root)', 'norm1', 'attn', 'norm2', 'mlp.0', 'mlp.2', 'norm', 'head'],
  'frozen-backbone': ['backbone.0', 'backbone.2', 'head'],
  // block's forward reads block.w on two lines: one call each time it is called (the stack traces show it).
  'weight-read-twice': ['block', 'fc', 'fc_1', 'block_1'],
};

const names = readdirSync(DIR)
  .filter((f) => f.endsWith('.onnx'))
  .map((f) => f.replace(/\.onnx$/, ''))
  .sort();

test('the dynamo fixtures are all here', () => {
  assert.deepEqual(names, Object.keys(CALLS).sort());
});

function check(name: string, expect: DynamoExpect, report: Report): void {
  const want: Counts = {
    declared: expect.graph?.declared ?? expect.torch.declared,
    unique: expect.graph?.unique ?? expect.torch.unique,
    summary: expect.graph?.summary ?? expect.torch.summary,
  };
  for (const key of ['declared', 'unique', 'summary'] as const) {
    if (expect.graph?.[key] !== undefined)
      assert.notEqual(want[key], expect.torch[key], `${name}.${key}: listed as different but equal`);
  }
  assert.deepEqual(
    { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
    want,
    `${name}: counts vs PyTorch's${expect.graph ? ` (graph where the file differs: ${expect.graph.notes})` : ''}`,
  );
  // Shared parameters under PyTorch's names (the file may hold a folded, transposed copy under `val_N`).
  const shared = Object.fromEntries(report.shared.map((s) => [expect.torchNames[s.name] ?? s.name, s.calls]));
  const truthShared = Object.fromEntries(
    Object.entries(expect.torch.shared).filter(([, calls]) => calls >= 2),
  );
  assert.deepEqual(shared, truthShared, `${name}: shared parameters and their calls`);
  // Seed case 3's unused conv2 is not in the file at all: nothing the file holds is unused.
  assert.deepEqual(report.unused, [], `${name}: unused`);
  assert.deepEqual(
    report.layers.filter((l) => l.params > 0).map((l) => l.name),
    CALLS[name],
    `${name}: layer calls with parameters`,
  );
}

for (const name of names) {
  const expect = JSON.parse(readFileSync(path.join(DIR, `${name}.expect.json`), 'utf8')) as DynamoExpect;
  const file = path.join(DIR, `${name}.onnx`);
  const truth = `PyTorch declared ${expect.torch.declared}, unique ${expect.torch.unique}, summary ${expect.torch.summary}`;

  test(`dynamo/${name}: graph only; ${truth}`, async () => {
    const report = await analyzeFile(file, { trace: false });
    assert.equal(report.trace.mode, 'static');
    check(name, expect, report);
  });

  test(`dynamo/${name}: traced; ${truth}`, { timeout: 120_000 }, async () => {
    const inputFiles = Object.fromEntries(
      Object.entries(expect.inputs).map(([input, npy]) => [input, path.join(DIR, npy)]),
    );
    const report = await analyzeFile(file, { trace: { device: 'cpu', inputFiles }, traceRequired: true });
    assert.equal(report.trace.mode, 'onnxruntime', JSON.stringify(report.trace));
    check(name, expect, report);
  });
}

test('dynamo/seed-case-2: the second call of conv1 is its own call, named like TorchScript’s', async () => {
  const report = await analyzeFile(path.join(DIR, 'seed-case-2.onnx'), { trace: false });
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls, s.callNames]),
    [['conv1.weight', 2, ['conv1', 'conv1_1']]],
  );
});

test('dynamo tied embedding: counted under its PyTorch name, the transposed val_N copy as stored twice', async () => {
  const report = await analyzeFile(path.join(DIR, 'tied-embedding.onnx'), { trace: false });
  assert.deepEqual(
    report.shared.map((s) => [s.name, s.calls]),
    [['head.weight', 2]],
  );
  assert.deepEqual(
    report.duplicates.map((d) => [d.names, d.transposed]),
    [[['head.weight', 'val_0'], true]],
  );
});
