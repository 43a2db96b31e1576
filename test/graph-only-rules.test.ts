// docs/counting.md's graph-only rules on hand-built graphs: equal-valued named tensors are two parameters;
// merged clones are not sharing; folded lookups are derived, not parameters; one-element constants no
// module owns are not parameters; BatchNorm folds are accounted for exactly (C to 2C per Conv).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeModel, tensorInfo } from './support/onnx-reflection.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { checkReport } from '../src/report/validate.ts';

const work = mkdtempSync(path.join(tmpdir(), 'paramtrace-graph-rules-'));
after(() => rmSync(work, { recursive: true, force: true }));

const FLOAT = 1;
const N = 8;

interface Node {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
}

const node = (opType: string, name: string, input: string[], output: string): Node => ({
  op_type: opType,
  input,
  output: [output],
  name,
});

let seed = 7;
/** Float values of their own (a generator, so that two calls never repeat by chance). */
function values(count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    out[i] = seed / 2 ** 31 - 1;
  }
  return out;
}

function initializer(
  name: string,
  dims: number[],
  data: Float32Array = values(dims.reduce((a, b) => a * b, 1)),
) {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer.slice(0)) };
}

/** A chain of nodes over input x [1, N] ending in `output`; static analysis, checked against the schema. */
async function analyzeGraph(
  name: string,
  nodes: Node[],
  initializers: object[],
  options: { producer?: string; input?: number[]; output?: string } = {},
): Promise<Report> {
  const file = path.join(work, `${name}.onnx`);
  const output = options.output ?? nodes.at(-1)!.output[0]!;
  const graph = {
    name,
    node: nodes,
    input: [tensorInfo('x', FLOAT, options.input ?? [1, N])],
    output: [tensorInfo(output, FLOAT, [])],
    initializer: initializers,
  };
  writeFileSync(file, encodeModel(graph, options.producer));
  const report = await analyzeFile(file, { trace: false });
  assert.equal(report.source, 'graph');
  return checkReport(JSON.parse(JSON.stringify(report)), name);
}

const counts = (r: Report): number[] => [r.counts.declared, r.counts.unique, r.counts.summary];
const difference = (r: Report, cause: string) => r.differences?.find((d) => d.cause === cause);

describe('equal values', () => {
  it('two named tensors with equal values are two parameters, with a note; never shared', async () => {
    const w = values(N * N);
    const r = await analyzeGraph(
      'equal-named',
      [
        node('MatMul', '/layers.0/MatMul', ['x', 'layers.0.weight'], 'h'),
        node('MatMul', '/layers.1/MatMul', ['h', 'layers.1.weight'], 'y'),
      ],
      [initializer('layers.0.weight', [N, N], w), initializer('layers.1.weight', [N, N], w)],
    );
    assert.deepEqual(counts(r), [128, 128, 128]);
    assert.deepEqual(r.shared, []);
    assert.deepEqual(r.duplicates, []);
    assert.ok(
      r.notes.some((n) => /identical values \(layers\.0\.weight = layers\.1\.weight\)/.test(n)),
      r.notes.join('\n'),
    );
  });

  it('a copy with an exporter-generated name is the same parameter stored twice', async () => {
    const w = values(N * N);
    const r = await analyzeGraph(
      'generated-copy',
      [
        node('MatMul', '/a/MatMul', ['x', 'a.weight'], 'h'),
        node('MatMul', '/b/MatMul', ['h', 'onnx::MatMul_9'], 'y'),
      ],
      [initializer('a.weight', [N, N], w), initializer('onnx::MatMul_9', [N, N], w)],
    );
    assert.deepEqual(counts(r), [64, 64, 128]);
    assert.deepEqual(
      r.duplicates.map((d) => d.names),
      [['a.weight', 'onnx::MatMul_9']],
    );
    assert.deepEqual(
      r.shared.map((s) => [s.name, s.calls]),
      [['a.weight', 2]],
    );
  });
});

describe('merged clones', () => {
  const bias = (name: string, i: number, input: string, output: string) =>
    node('Add', `/enc/layers.${i}/linear1/Add`, [input, name], output);

  it('one tensor read by sibling modules whose own tensors are absent: merged, not shared', async () => {
    const r = await analyzeGraph(
      'merged-clones',
      [
        bias('enc.layers.0.linear1.bias', 0, 'x', 'h0'),
        bias('enc.layers.0.linear1.bias', 1, 'h0', 'h1'),
        bias('enc.layers.0.linear1.bias', 2, 'h1', 'y'),
      ],
      [initializer('enc.layers.0.linear1.bias', [N])],
    );
    assert.deepEqual(r.shared, []);
    assert.deepEqual(
      r.valueMerged.map((v) => [v.name, v.callNames]),
      [
        [
          'enc.layers.0.linear1.bias',
          ['enc.layers.0.linear1', 'enc.layers.1.linear1', 'enc.layers.2.linear1'],
        ],
      ],
    );
    assert.match(r.valueMerged[0]!.note, /2 sibling module\(s\).*export with the helper/);
    // Summary-style still counts each call: as PyTorch does for three clones.
    assert.deepEqual(counts(r), [8, 8, 24]);
    const d = difference(r, 'clones-merged');
    assert.deepEqual(
      [d?.declared, d?.unique, d?.summary],
      [
        { min: 16, max: 16 },
        { min: 16, max: 16 },
        { min: 0, max: 0 },
      ],
    );
  });

  it('a sibling whose own tensor is in the file, a module called twice, or another structure: shared', async () => {
    const own = await analyzeGraph(
      'sibling-has-own',
      [
        bias('enc.layers.0.linear1.bias', 0, 'x', 'h0'),
        bias('enc.layers.0.linear1.bias', 1, 'h0', 'y'),
        node('Add', '/enc/layers.1/linear2/Add', ['x', 'enc.layers.1.linear1.bias'], 'z'),
      ],
      [initializer('enc.layers.0.linear1.bias', [N]), initializer('enc.layers.1.linear1.bias', [N])],
      { output: 'y' },
    );
    assert.deepEqual(
      own.shared.map((s) => s.name),
      ['enc.layers.0.linear1.bias'],
    );
    const twice = await analyzeGraph(
      'module-twice',
      [
        node('MatMul', '/conv1/MatMul', ['x', 'conv1.weight'], 'h'),
        node('MatMul', '/conv1_1/MatMul', ['h', 'conv1.weight'], 'y'),
      ],
      [initializer('conv1.weight', [N, N])],
    );
    assert.deepEqual(
      twice.shared.map((s) => s.name),
      ['conv1.weight'],
    );
    const tied = await analyzeGraph(
      'tied-head',
      [
        node('MatMul', '/emb/MatMul', ['x', 'emb.weight'], 'h'),
        node('MatMul', '/head/MatMul', ['h', 'emb.weight'], 'y'),
      ],
      [initializer('emb.weight', [N, N])],
    );
    assert.deepEqual(
      tied.shared.map((s) => s.name),
      ['emb.weight'],
    );
    for (const r of [own, twice, tied]) assert.equal(difference(r, 'clones-merged'), undefined);
  });
});

describe('all-equal constants merged by the exporter', () => {
  it('are value-merged, and PyTorch declares one copy per module that reads them', async () => {
    const r = await analyzeGraph(
      'values-merged',
      [
        node('Add', '/a/Add', ['x', 'a.bias'], 'h'),
        node('Add', '/b/Add', ['h', 'a.bias'], 'i'),
        node('Add', '/c/Add', ['i', 'a.bias'], 'y'),
      ],
      [initializer('a.bias', [N], new Float32Array(N))],
    );
    assert.deepEqual(r.shared, []);
    assert.deepEqual(
      r.valueMerged.map((v) => v.name),
      ['a.bias'],
    );
    const d = difference(r, 'values-merged');
    assert.deepEqual(
      [d?.declared, d?.unique, d?.summary],
      [
        { min: 16, max: 16 },
        { min: 16, max: 16 },
        { min: 0, max: 0 },
      ],
    );
  });
});

describe('folded lookups', () => {
  it('a generated constant repeating a table is derived: not a parameter, PyTorch counts the table', async () => {
    // A relative position bias: 4 heads x 49 x 49 gathered from a 4 x 169 table.
    const table = values(4 * 169);
    const folded = new Float32Array(4 * 49 * 49);
    for (let h = 0; h < 4; h++)
      for (let i = 0; i < 49; i++)
        for (let j = 0; j < 49; j++) {
          const [ri, ci, rj, cj] = [Math.floor(i / 7), i % 7, Math.floor(j / 7), j % 7];
          const index = (ri - rj + 6) * 13 + (ci - cj + 6);
          folded[(h * 49 + i) * 49 + j] = table[h * 169 + index]!;
        }
    const r = await analyzeGraph(
      'lookup-folded',
      [
        node('MatMul', '/attn/qkv/MatMul', ['x', 'onnx::MatMul_3'], 'q'),
        node('Add', '/attn/Add', ['q', 'onnx::Add_7'], 'y'),
      ],
      [initializer('onnx::MatMul_3', [49, 49]), initializer('onnx::Add_7', [4, 49, 49], folded)],
      { input: [1, 4, 49, 49] },
    );
    // The folded Linear weight (distinct values) stays a parameter; the lookup does not.
    assert.deepEqual(
      r.parameters.map((p) => p.name),
      ['onnx::MatMul_3'],
    );
    assert.deepEqual(counts(r), [2401, 2401, 2401]);
    const d = difference(r, 'lookup-folded');
    assert.deepEqual(d?.tensors, ['onnx::Add_7']);
    assert.deepEqual(
      [d?.declared, d?.unique, d?.summary],
      [
        { min: 676, max: 676 },
        { min: 676, max: 676 },
        { min: 676, max: 676 },
      ],
    );
    assert.match(d!.note, /9,604 elements\) repeat 676 distinct values/);

    // Two entries of a table can be equal: the distinct values are then a floor, and the window's table
    // size ((2M - 1)^2 per head, from the 49 x 49 shape) the ceiling.
    const equal = folded.map((v) => (v === table[5] ? table[4]! : v));
    const floor = await analyzeGraph(
      'lookup-equal-entries',
      [node('Add', '/attn/Add', ['x', 'onnx::Add_7'], 'y')],
      [initializer('onnx::Add_7', [4, 49, 49], equal)],
      { input: [1, 4, 49, 49] },
    );
    assert.deepEqual(difference(floor, 'lookup-folded')?.declared, { min: 675, max: 676 });
  });
});

describe('data operands', () => {
  it("a named tensor in a product's data place: still a parameter, PyTorch's counts maybe lower by it", async () => {
    // Swin v2's relative_coords_table: a buffer fed (renamed by an Identity) through a two-layer MLP whose
    // weights are constants too; the whole chain folds into the attention's bias.
    const r = await analyzeGraph(
      'data-operand',
      [
        node('Identity', 'Identity_1', ['blk.attn.relative_coords_table'], 'blk.attn.table_alias'),
        node(
          'MatMul',
          '/blk/attn/cpb_mlp/cpb_mlp.0/MatMul',
          ['blk.attn.table_alias', 'onnx::MatMul_5'],
          'm1',
        ),
        node('Relu', '/blk/attn/cpb_mlp/cpb_mlp.1/Relu', ['m1'], 'r1'),
        node('MatMul', '/blk/attn/cpb_mlp/cpb_mlp.2/MatMul', ['r1', 'onnx::MatMul_6'], 'm2'),
        node('Add', '/blk/attn/Add', ['x', 'm2'], 'y'),
      ],
      [
        initializer('blk.attn.relative_coords_table', [4, 2]),
        initializer('onnx::MatMul_5', [2, N]),
        initializer('onnx::MatMul_6', [N, N]),
      ],
    );
    const table = 4 * 2;
    assert.deepEqual(counts(r), [table + 2 * N + N * N, table + 2 * N + N * N, table + 2 * N + N * N]);
    assert.deepEqual(r.differences, [
      {
        cause: 'data-operand',
        tensors: ['blk.attn.relative_coords_table'],
        declared: { min: -table, max: 0 },
        unique: { min: -table, max: 0 },
        summary: { min: -table, max: 0 },
        note: r.differences![0]!.note,
      },
    ]);
    assert.match(r.notes.join('\n'), /registered buffer the model feeds its layer, or a learned input/);
  });

  it('a weight in its own place, or a tensor also read as a weight elsewhere, is no data operand', async () => {
    const r = await analyzeGraph(
      'no-data-operand',
      [
        node('MatMul', '/q/MatMul', ['latents', 'q.weight'], 'q'),
        node('Add', '/Add', ['x', 'latents_row'], 'h'),
        node('MatMul', '/proj/MatMul', ['h', 'proj.weight'], 'p'),
        node('MatMul', '/out/MatMul', ['p', 'q'], 'y'),
      ],
      [
        initializer('latents', [N, N]),
        initializer('q.weight', [N, N]),
        initializer('latents_row', [N]),
        initializer('proj.weight', [N, N]),
      ],
    );
    // `latents` is the data operand of q (a learned input or a buffer); q.weight and proj.weight are
    // weights, latents_row is read by an Add.
    assert.deepEqual(
      r.differences?.map((d) => [d.cause, d.tensors]),
      [['data-operand', ['latents']]],
    );

    const both = await analyzeGraph(
      'operand-and-weight',
      [
        node('MatMul', '/a/MatMul', ['t', 'a.weight'], 'm'),
        node('MatMul', '/b/MatMul', ['x', 't'], 'h'),
        node('Add', '/Add', ['h', 'm'], 'y'),
      ],
      [initializer('t', [N, N]), initializer('a.weight', [N, N])],
    );
    assert.equal(difference(both, 'data-operand'), undefined);
  });
});

describe('one-element constants', () => {
  it('a module-owned one-element tensor is a parameter; a generated or shared one is not', async () => {
    const r = await analyzeGraph(
      'one-element',
      [
        node('PRelu', '/act/PRelu', ['x', 'act.weight'], 'a'),
        node('Mul', '/a/Mul', ['a', 'const_one'], 'b'),
        node('Mul', '/b/Mul', ['b', 'const_one'], 'c'),
        node('Mul', '/attn/Mul', ['c', 'val_80'], 'y'),
      ],
      [initializer('act.weight', [1]), initializer('const_one', [1]), initializer('val_80', [1])],
    );
    assert.deepEqual(
      r.parameters.map((p) => p.name),
      ['act.weight'],
    );
    assert.deepEqual(counts(r), [1, 1, 1]);
    assert.ok(
      r.notes.some((n) => /2 one-element constant\(s\) made by the exporter \(const_one, val_80/.test(n)),
    );
  });
});

describe('BatchNorm folded into Convs', () => {
  it('says exactly how much higher PyTorch counts: C per Conv without a bias of its own, 2C with one', async () => {
    const conv = (i: number, input: string, output: string) =>
      node(
        'Conv',
        `/features/features.${i}/Conv`,
        [input, `onnx::Conv_${10 + 2 * i}`, `onnx::Conv_${11 + 2 * i}`],
        output,
      );
    const r = await analyzeGraph(
      'bn-folded',
      [conv(0, 'x', 'h'), conv(1, 'h', 'y')],
      [
        initializer('onnx::Conv_10', [8, 3, 3, 3]),
        initializer('onnx::Conv_11', [8]),
        initializer('onnx::Conv_12', [16, 8, 3, 3]),
        initializer('onnx::Conv_13', [16]),
      ],
      { producer: 'pytorch', input: [1, 3, 16, 16] },
    );
    const d = difference(r, 'batchnorm-folded');
    assert.deepEqual(
      [d?.declared, d?.unique, d?.summary],
      [
        { min: 24, max: 48 },
        { min: 24, max: 48 },
        { min: 24, max: 48 },
      ],
    );
    assert.match(
      d!.note,
      /higher by 24 when the Convs have no bias of their own .* by 48 when they have one/,
    );
    // Not from PyTorch: nothing is claimed.
    const other = await analyzeGraph(
      'bn-other',
      [conv(0, 'x', 'y')],
      [initializer('onnx::Conv_10', [8, 3, 3, 3]), initializer('onnx::Conv_11', [8])],
      { input: [1, 3, 16, 16] },
    );
    assert.equal(difference(other, 'batchnorm-folded'), undefined);
  });
});
