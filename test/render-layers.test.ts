// The layer table's rows (src/render/layer-rows.ts) on synthetic reports: which calls are shown, how calls
// below the depth are summed into their module, what --all-nodes keeps, and what the text table and the
// comment say about the rows left out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import { compare } from '../src/compare/compare.ts';
import { DEFAULT_DEPTH, layerRows, rowName, rowType } from '../src/render/layer-rows.ts';
import { renderComment } from '../src/render/markdown.ts';
import { renderText } from '../src/render/text.ts';
import type { LayerCall, Report, UnusedParameter } from '../src/report/report.ts';

function layer(name: string, params: number, over: Partial<LayerCall> = {}): LayerCall {
  return {
    name,
    type: 'Conv',
    opTypes: ['Conv'],
    graph: '',
    parameters: params > 0 ? [`${name}.weight`] : [],
    params,
    outputShapes: [[1, 4]],
    live: true,
    executions: 1,
    ...over,
  };
}

function report(layers: LayerCall[], over: Partial<Report> = {}): Report {
  return {
    ...emptyReport('m.onnx', 'traced'),
    trace: {
      mode: 'onnxruntime',
      device: 'cpu',
      onnxruntimeVersion: '1.30.0',
      inputs: [],
      fallbackNodes: [],
      note: 'traced',
    },
    layers,
    notes: [],
    ...over,
  };
}

/** A resnet-like stem and two blocks, with parameterless calls (relu, add) between them. */
const resnet = report(
  [
    layer('conv1', 100),
    layer('relu', 0, { type: 'Relu' }),
    layer('layer1.0.conv1', 10),
    layer('layer1.0.relu', 0, { type: 'Relu' }),
    layer('layer1.0.conv2', 20, { type: 'Conv', outputShapes: [[1, 8]] }),
    layer('layer1.0.downsample.0', 5, { type: 'Conv', outputShapes: [[1, 9]] }),
    layer('/Add', 0, { type: 'Add' }),
    layer('layer1.1.conv1', 30, { executions: 3 }),
    layer('fc', 7, { type: 'Gemm', parameters: ['fc.weight', 'tied'] }),
    layer('head', 7, { type: 'MatMul', parameters: ['tied'] }),
  ],
  { shared: [{ name: 'tied', numel: 7, calls: 2, callNames: ['fc', 'head'], extraInSummary: 7 }] },
);

test('by default only calls with parameters are rows, and depth 3 keeps each of these calls', () => {
  const table = layerRows(resnet);
  assert.equal(DEFAULT_DEPTH, 3);
  assert.equal(table.depth, 3);
  assert.deepEqual(
    table.rows.map((r) => [rowName(r), r.params]),
    [
      ['conv1', 100],
      ['layer1.0.conv1', 10],
      ['layer1.0.conv2', 20],
      ['layer1.0.downsample', 5],
      ['layer1.1.conv1 (x3)', 30],
      ['fc', 7],
      ['head', 7],
    ],
  );
  // relu, layer1.0.relu and /Add hold no parameters; layer1.0.downsample.0 is deeper than 3.
  assert.equal(table.hiddenCalls, 3);
  assert.equal(table.summedCalls, 1);
});

test('a smaller depth sums the calls below it into their module: parameters, types, runs, last shapes', () => {
  const table = layerRows(resnet, { depth: 1 });
  const layer1 = table.rows.find((r) => r.name === 'layer1')!;
  assert.equal(layer1.calls, 4);
  assert.equal(layer1.params, 10 + 20 + 5 + 30);
  assert.deepEqual(layer1.executions, { min: 1, max: 3 });
  assert.equal(rowName(layer1), 'layer1 (x1-3)');
  assert.equal(rowType(layer1), 'Conv (4 calls)');
  assert.deepEqual(layer1.outputShapes, [[1, 4]], 'the output of its last call');
  assert.deepEqual(
    table.rows.map((r) => r.name),
    ['conv1', 'layer1', 'fc', 'head'],
  );
  assert.equal(table.summedCalls, 4);
  const two = layerRows(resnet, { depth: 2 });
  assert.deepEqual(
    two.rows.map((r) => [rowName(r), r.params]),
    [
      ['conv1', 100],
      ['layer1.0', 35],
      ['layer1.1 (x3)', 30],
      ['fc', 7],
      ['head', 7],
    ],
  );
  // The table's rows add up to the same parameters at every depth.
  const total = (rows: { params: number }[]) => rows.reduce((s, r) => s + r.params, 0);
  assert.equal(total(table.rows), total(layerRows(resnet, { allNodes: true }).rows));
  assert.equal(total(two.rows), total(table.rows));
});

test('shared marks are kept on the rows that hold a shared parameter, however deep they are summed', () => {
  const marks = (r: Report, depth?: number) =>
    Object.fromEntries(layerRows(r, { depth }).rows.map((row) => [row.name, row.mark?.kind ?? '']));
  assert.deepEqual(marks(resnet), {
    conv1: '',
    'layer1.0.conv1': '',
    'layer1.0.conv2': '',
    'layer1.0.downsample': '',
    'layer1.1.conv1': '',
    fc: 'shared',
    head: 'shared',
  });
  // A module whose calls share one weight (`blocks.0.attn` and its second call) stays marked when summed.
  const tied = report(
    [
      layer('blocks.0.attn.q', 4, { parameters: ['w'] }),
      layer('blocks.0.attn.q_1', 4, { parameters: ['w'] }),
      layer('blocks.1.mlp', 3),
    ],
    { shared: [{ name: 'w', numel: 4, calls: 2, callNames: ['q', 'q_1'], extraInSummary: 4 }] },
  );
  assert.deepEqual(marks(tied, 1), { blocks: 'shared' });
  assert.deepEqual(marks(tied, 2), { 'blocks.0': 'shared', 'blocks.1': '' });
});

test('unused parameters are rows by module and reason, to the depth; --all-nodes shows every call as the report has it', () => {
  const unused: UnusedParameter[] = [
    { name: 'branch.weight', numel: 12, reason: 'not-executed', detail: 'd' },
    { name: 'branch.bias', numel: 3, reason: 'not-executed', detail: 'd' },
    { name: 'dead.weight', numel: 8, reason: 'dead', detail: 'd' },
    { name: 'gone.block.0.weight', numel: 9, reason: 'not-exported', detail: 'd' },
    { name: 'gone.block.1.weight', numel: 9, reason: 'not-exported', detail: 'd' },
    { name: 'onnx::Conv_7', numel: 4, reason: 'orphan', detail: 'd' },
    {
      name: 'If_0_else_branch__Inline_0__enc.0.conv.weight (in 2/else_branch)',
      numel: 6,
      reason: 'not-executed',
      detail: 'd',
    },
  ];
  const r = report(
    [
      layer('live', 12),
      layer('branch', 0, { executions: 0, graph: '3/else_branch' }),
      layer('dead', 0, { live: false }),
    ],
    { unused },
  );
  const grouped = layerRows(r);
  assert.deepEqual(
    grouped.rows.map((row) => [row.name, rowType(row), row.params, row.mark]),
    [
      ['live', 'Conv', 12, null],
      ['branch', '(not executed, 2 parameters)', 15, { kind: 'unused', reason: 'not-executed' }],
      ['dead', '(dead code)', 8, { kind: 'unused', reason: 'dead' }],
      ['gone.block.0', '(never called)', 9, { kind: 'unused', reason: 'not-exported' }],
      ['gone.block.1', '(never called)', 9, { kind: 'unused', reason: 'not-exported' }],
      ['onnx::Conv_7', '(no consumer)', 4, { kind: 'unused', reason: 'orphan' }],
      [
        'enc.0.conv (else, in 2/else_branch)',
        '(not executed)',
        6,
        { kind: 'unused', reason: 'not-executed' },
      ],
    ],
  );
  assert.equal(grouped.hiddenCalls, 2);
  assert.deepEqual(
    layerRows(r, { depth: 1 }).rows.map((row) => [row.name, row.params]),
    [
      ['live', 12],
      ['branch', 15],
      ['dead', 8],
      ['gone', 18],
      ['onnx::Conv_7', 4],
      ['enc (else, in 2/else_branch)', 6],
    ],
  );
  // --all-nodes: today's table, the calls with their own marks, no call left out, and a row for each
  // parameter no call shows (not exported, orphan).
  const all = layerRows(r, { allNodes: true });
  assert.equal(all.depth, null);
  assert.equal(all.hiddenCalls, 0);
  assert.deepEqual(
    all.rows.map((row) => [row.name, row.mark]),
    [
      ['live', null],
      ['branch', { kind: 'unused', reason: 'not executed' }],
      ['dead', { kind: 'unused', reason: 'dead' }],
      ['gone.block.0.weight', { kind: 'unused', reason: 'not-exported' }],
      ['gone.block.1.weight', { kind: 'unused', reason: 'not-exported' }],
      ['onnx::Conv_7', { kind: 'unused', reason: 'orphan' }],
    ],
  );
});

test('calls in different subgraphs or inlined branches stay apart; node names are not module paths', () => {
  const r = report([
    layer('encoder.0.conv (then)', 4),
    layer('encoder.1.conv (then)', 4),
    layer('encoder.0.conv (else)', 4),
    layer('encoder.0.conv', 4, { graph: '7/body' }),
    layer('/Squeeze (then)', 0),
    layer('If_0/MatMul', 2),
    layer('Conv#3', 1),
  ]);
  assert.deepEqual(
    layerRows(r, { depth: 1 }).rows.map((row) => [rowName(row), row.calls, row.params]),
    [
      ['encoder (then)', 2, 8],
      ['encoder (else)', 1, 4],
      ['encoder', 1, 4],
      ['If_0/MatMul', 1, 2],
      ['Conv#3', 1, 1],
    ],
  );
});

test('the text table says which calls it leaves out and how to see them; --all-nodes leaves none out', () => {
  const text = renderText(resnet);
  assert.match(text, /^\s*\d+\s+layer1\.1\.conv1 \(x3\)\s+Conv\s+\[1, 4\]\s+30$/m);
  assert.match(text, /^\s*\d+\s+fc\s+Gemm\s+\[1, 4\]\s+7\s+shared$/m);
  assert.doesNotMatch(text, /^\s*\d+\s+relu\s/m);
  assert.match(
    text,
    /^… 3 layer calls without parameters not shown; 1 call below depth 3 summed into its module \(--depth N\); --all-nodes shows every layer call$/m,
  );
  const all = renderText(resnet, { allNodes: true });
  assert.match(all, /^\s*\d+\s+relu\s+Relu\s+\[1, 4\]\s+0$/m);
  assert.match(all, /^\s*\d+\s+layer1\.0\.downsample\.0\s+Conv/m);
  assert.doesNotMatch(all, /not shown/);
  // Nothing left out, nothing summed: no line.
  assert.doesNotMatch(renderText(report([layer('conv1', 9)])), /not shown|summed/);
});

test('the comment’s layer table has the same rows, and says the report file lists every call', () => {
  const comment = renderComment(compare(report([]), resnet), { commentKey: 'k', headReport: resnet });
  assert.match(
    comment,
    /<details><summary>Layer calls of head with parameters, by module to depth 3<\/summary>/,
  );
  assert.match(
    comment,
    /\| <code>layer1\.0\.downsample<\/code> +\| <code>Conv<\/code> +\| \[1, 9\] +\| +5 \|/,
  );
  assert.match(comment, /\| <code>fc<\/code> .*\| +7 \| shared +\|/);
  assert.doesNotMatch(comment, /<code>relu<\/code>/);
  assert.match(
    comment,
    /^…3 layer calls without parameters not shown; 1 call below depth 3 summed into its module: the report file lists every layer call/m,
  );
  const one = renderComment(compare(report([]), resnet), {
    commentKey: 'k',
    headReport: resnet,
    layers: { depth: 1 },
  });
  assert.match(one, /\| <code>layer1 \(x1-3\)<\/code> +\| <code>Conv \(4 calls\)<\/code> +\|/);
});
