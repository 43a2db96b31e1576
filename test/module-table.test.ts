// The watched count by top-level module (src/compare/module-table.ts) on hand-built reports: seed case 1
// (conv2(conv1(x))) as base and seed case 3 (conv1 called twice, conv2 declared but unused) as head, whose
// counts are known from docs/seed-cases.md: unique 18 → 9, declared 18 → 18, summary-style 18 → 18.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import { compare } from '../src/compare/compare.ts';
import { contribution, moduleTable, topModule, UNATTRIBUTED } from '../src/compare/module-table.ts';
import { renderComment } from '../src/render/markdown.ts';
import type { Parameter, Report } from '../src/report/report.ts';

function parameter(name: string, numel: number, calls: number): Parameter {
  return {
    name,
    aliases: [],
    storedAs: calls > 0 ? [name] : [],
    dtype: 'float32',
    shape: [numel],
    numel,
    calls,
    used: calls > 0,
    trainable: true,
  };
}

/** A report of these parameters, its counts summed from them as the analysis sums them. */
function report(parameters: Parameter[], over: Partial<Report['counts']> = {}): Report {
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const declared = sum(parameters.map((p) => p.numel));
  return {
    ...emptyReport('m.onnx', 'hand-built'),
    parameters,
    counts: {
      declared,
      unique: sum(parameters.filter((p) => p.used).map((p) => p.numel)),
      summary: sum(parameters.map((p) => p.numel * p.calls)),
      trainable: declared,
      frozen: 0,
      buffers: 0,
      parameterBytes: declared * 4,
      ...over,
    },
  };
}

/** A layer call with no parameters yet, as the report lists it. */
function layer(name: string): Report['layers'][number] {
  return {
    name,
    type: 'Conv',
    opTypes: ['Conv'],
    graph: '',
    parameters: [],
    params: 0,
    outputShapes: null,
    live: true,
    executions: 1,
  };
}

// Seed case 1: conv1 and conv2, each called once. Seed case 3: conv1 called twice, conv2 never.
const case1 = report([parameter('conv1.weight', 9, 1), parameter('conv2.weight', 9, 1)]);
const case3 = report([parameter('conv1.weight', 9, 2), parameter('conv2.weight', 9, 0)]);

describe('module table', () => {
  test('the hand-built reports have the seed cases’ counts', () => {
    assert.deepEqual([case1.counts.unique, case1.counts.declared, case1.counts.summary], [18, 18, 18]);
    assert.deepEqual([case3.counts.unique, case3.counts.declared, case3.counts.summary], [9, 18, 18]);
  });

  test("a tensor the exporter named (a BatchNorm folded into a Conv) counts under its layer call's module", () => {
    // onnx::Conv_21 is layer1.0.conv1's folded weight; onnx::Conv_22 is read first by `head_1` (the second
    // call of the top-level `head`), so it belongs to `head`.
    const folded = report([parameter('onnx::Conv_21', 144, 1), parameter('onnx::Conv_22', 4, 1)]);
    folded.layers = [
      { ...layer('layer1.0.conv1'), parameters: ['onnx::Conv_21'] },
      { ...layer('head_1'), parameters: ['onnx::Conv_22'] },
    ];
    const table = moduleTable(case1, folded, 'unique');
    assert.deepEqual(
      table.changed.map((r) => [r.name, r.base, r.head]),
      [
        ['layer1', 0, 144],
        ['conv1', 9, 0],
        ['conv2', 9, 0],
        ['head', 0, 4],
      ],
    );
  });

  test('unique: conv2 stops being used, though declared stays equal', () => {
    const table = moduleTable(case1, case3, 'unique');
    assert.deepEqual(table.changed, [{ name: 'conv2', base: 9, head: 0, delta: -9 }]);
    assert.equal(table.unchanged, 1, 'conv1 holds 9 used parameters on both sides');
    assert.deepEqual(table.total, { base: 18, head: 9 });
    // The comparison's own modules group declared parameters: nothing moved there.
    assert.deepEqual(moduleTable(case1, case3, 'declared').changed, []);
    assert.equal(moduleTable(case1, case3, 'declared').unchanged, 2);
  });

  test('summary-style: conv1 counts once per call (9 → 18), conv2 drops to 0; the rows add up to the totals', () => {
    const table = moduleTable(case1, case3, 'summary');
    // Equal sizes of change: by name.
    assert.deepEqual(table.changed, [
      { name: 'conv1', base: 9, head: 18, delta: 9 },
      { name: 'conv2', base: 9, head: 0, delta: -9 },
    ]);
    const sum = (side: 'base' | 'head'): number => table.changed.reduce((a, r) => a + r[side], 0);
    assert.equal(sum('base'), case1.counts.summary);
    assert.equal(sum('head'), case3.counts.summary);
  });

  test('the largest change first, a new module from 0, modules by their first name component', () => {
    const base = report([parameter('layer1.0.conv1.weight', 10, 1), parameter('fc.weight', 5, 1)]);
    const head = report([
      parameter('layer1.0.conv1.weight', 10, 1),
      parameter('layer1.1.conv1.weight', 40, 1),
      parameter('fc.weight', 5, 1),
      parameter('onnx::Conv_12', 3, 1),
    ]);
    const table = moduleTable(base, head);
    assert.deepEqual(
      table.changed.map((r) => [r.name, r.base, r.head]),
      [
        ['layer1', 10, 50],
        ['(root)', 0, 3],
      ],
    );
    assert.equal(table.unchanged, 1);
  });

  test('a total the parameters do not add up to (static summary-style across If branches) gets its own row', () => {
    const head = report([parameter('conv1.weight', 9, 2)], { summary: 30 });
    const table = moduleTable(case1, head, 'summary');
    const rest = table.changed.find((r) => r.name === UNATTRIBUTED);
    assert.deepEqual(rest, { name: UNATTRIBUTED, base: 0, head: 30 - 18, delta: 12 });
    assert.equal(
      table.changed.reduce((a, r) => a + r.head, 0),
      30,
    );
  });

  test('contribution and topModule', () => {
    const p = parameter('a.b', 7, 3);
    assert.deepEqual(
      (['declared', 'unique', 'summary'] as const).map((m) => contribution(p, m)),
      [7, 7, 21],
    );
    const unused = parameter('a.c', 7, 0);
    assert.deepEqual(
      (['declared', 'unique', 'summary'] as const).map((m) => contribution(unused, m)),
      [7, 0, 0],
    );
    assert.equal(topModule('layer1.0.conv1.weight'), 'layer1');
    assert.equal(topModule('onnx::Conv_12'), '(root)');
    assert.equal(topModule('.hidden'), '(root)');
  });
});

describe('module table in the comment', () => {
  const rowOf = (comment: string, name: string): string | undefined =>
    comment.split('\n').find((l) => l.startsWith(`| <code>${name}</code> |`));

  test('it follows the watched metric, and comes before the counts table', () => {
    const unique = renderComment(compare(case1, case3, {}), {
      commentKey: 'k',
      baseReport: case1,
      headReport: case3,
    });
    assert.match(unique, /\*\*Where it changed:\*\* unique parameters/);
    assert.equal(rowOf(unique, 'conv2'), '| <code>conv2</code> | 9 | 0 | -9 | -100.0% |');
    assert.equal(rowOf(unique, 'conv1'), undefined, 'conv1 is unchanged in unique');
    assert.ok(unique.indexOf('Where it changed') < unique.indexOf('| Parameters |'));

    const summary = renderComment(compare(case1, case3, { metric: 'summary' }), {
      commentKey: 'k',
      baseReport: case1,
      headReport: case3,
    });
    assert.match(summary, /\*\*Where it changed:\*\* summary-style parameters/);
    assert.equal(rowOf(summary, 'conv1'), '| <code>conv1</code> | 9 | 18 | +9 | +100.0% |');

    const declared = renderComment(compare(case1, case3, { metric: 'declared' }), {
      commentKey: 'k',
      baseReport: case1,
      headReport: case3,
    });
    assert.match(
      declared,
      /\*\*By module:\*\* declared parameters \(the count the verdict watches\) unchanged in 2 modules\./,
    );
    assert.doesNotMatch(declared, /```mermaid/, 'no chart when nothing changed');
  });
});
