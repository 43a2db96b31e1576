// The layer calls of base and head side by side (src/compare/layer-diff.ts), on hand-built reports whose
// expected rows follow from how they are built, and the layer diff as the comment shows it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { emptyReport } from '../src/action/models/analyze-model.ts';
import { compare } from '../src/compare/compare.ts';
import { layerDiff } from '../src/compare/layer-diff.ts';
import { renderComment } from '../src/render/markdown.ts';
import type { LayerCall, Report } from '../src/report/report.ts';

function layer(name: string, params: number, over: Partial<LayerCall> = {}): LayerCall {
  return {
    name,
    type: 'Conv2d',
    opTypes: ['Conv'],
    graph: '',
    parameters: params > 0 ? [`${name}.weight`] : [],
    params,
    outputShapes: [[1, 1, 512, 512]],
    live: true,
    executions: 1,
    ...over,
  };
}

const report = (layers: LayerCall[]): Report => ({ ...emptyReport('m.onnx', 'hand-built'), layers });

// Seed case 1 (conv2(conv1(x)), a relu between) → seed case 3 (conv1(conv1(x)): the second call is
// `conv1_1`, conv2 is gone), plus an Add without parameters that only head has.
const base = report([layer('conv1', 9), layer('relu', 0, { type: 'ReLU' }), layer('conv2', 9)]);
const head = report([
  layer('conv1', 9),
  layer('relu', 0, { type: 'ReLU' }),
  layer('conv1_1', 9),
  layer('/Add', 0, { type: 'Add' }),
]);

describe('layer diff', () => {
  test('seed case 1 → 3: conv1_1 added, conv2 removed, conv1 unchanged, calls without parameters apart', () => {
    const diff = layerDiff(base, head);
    assert.deepEqual(
      diff.changed.map((r) => [r.name, r.change, r.base?.params ?? null, r.head?.params ?? null, r.delta]),
      [
        // Equal sizes of change: by name.
        ['conv1_1', 'added', null, 9, 9],
        ['conv2', 'removed', 9, null, -9],
      ],
    );
    assert.deepEqual(
      diff.unchanged.map((r) => r.name),
      ['conv1'],
    );
    // relu (on both sides) and /Add (head only) hold no parameters: 0 → 0, whatever else changed.
    assert.equal(diff.withoutParameters, 2);
  });

  test('other runs, parameters or type make a call changed; the largest change first', () => {
    const before = report([
      layer('loop.body', 4, { executions: 1 }),
      layer('fc', 10, { type: 'Linear' }),
      layer('proj', 6, { type: 'Linear' }),
    ]);
    const after = report([
      layer('loop.body', 4, { executions: 3 }),
      layer('fc', 30, { type: 'Linear' }),
      layer('proj', 6, { type: 'Conv1d' }),
    ]);
    const diff = layerDiff(before, after);
    assert.deepEqual(
      diff.changed.map((r) => [r.name, r.change, r.delta]),
      [
        ['fc', 'changed', 20],
        ['loop.body', 'changed', 0],
        ['proj', 'changed', 0],
      ],
    );
    assert.deepEqual(diff.changed[1]!.base, { type: 'Conv2d', params: 4, executions: 1 });
    assert.deepEqual(diff.changed[1]!.head, { type: 'Conv2d', params: 4, executions: 3 });
    assert.deepEqual(diff.unchanged, []);
  });

  test('calls are matched within their graph, and repeated names in order', () => {
    const before = report([
      layer('MatMul', 2, { type: 'MatMul' }),
      layer('MatMul', 3, { type: 'MatMul' }),
      layer('body', 5, { graph: 'Loop_0/body' }),
    ]);
    const after = report([layer('MatMul', 2, { type: 'MatMul' }), layer('body', 5, { graph: 'If_0/then' })]);
    const diff = layerDiff(before, after);
    assert.deepEqual(
      diff.changed.map((r) => [r.name, r.graph, r.change, r.delta]),
      [
        ['body', 'If_0/then', 'added', 5],
        ['body', 'Loop_0/body', 'removed', -5],
        ['MatMul', '', 'removed', -3],
      ],
    );
    assert.deepEqual(
      diff.unchanged.map((r) => [r.name, r.base?.params]),
      [['MatMul', 2]],
    );
  });

  test('in the comment: changed calls in a table, unchanged ones folded, head’s full list gone', () => {
    const comment = renderComment(compare(base, head), {
      commentKey: 'k',
      baseReport: base,
      headReport: head,
    });
    const lines = comment.split('\n');
    const at = lines.findIndex((l) => l.startsWith('**Layer calls that changed**'));
    assert.ok(at > 0, comment);
    assert.deepEqual(lines.slice(at + 2, at + 6), [
      '| Layer call | Type | base | head | change | |',
      '| :- | :- | -: | -: | -: | :- |',
      '| <code>conv1_1</code> | <code>Conv2d</code> | - | 9 | +9 | added |',
      '| <code>conv2</code> | <code>Conv2d</code> | 9 | - | -9 | removed |',
    ]);
    const folded = comment.slice(comment.indexOf('<details>'), comment.indexOf('</details>'));
    assert.match(
      folded,
      /<summary>1 unchanged layer call with parameters, 2 layer calls without parameters<\/summary>/,
    );
    assert.match(folded, /\| <code>conv1<\/code> \| <code>Conv2d<\/code> \| 9 \| 9 \|/);
    assert.match(folded, /2 layer calls without parameters on either side \(0 → 0\) not shown/);
    assert.doesNotMatch(comment, /Layer calls of head with parameters/);
  });

  test('a new model (a base without layer calls): head’s calls by module instead of a diff of all-added rows', () => {
    const empty = report([]);
    const comment = renderComment(compare(empty, head), {
      commentKey: 'k',
      baseReport: empty,
      headReport: head,
    });
    assert.doesNotMatch(comment, /Layer calls that changed/);
    assert.match(
      comment,
      /<details><summary>Layer calls of head with parameters, by module to depth 3<\/summary>/,
    );
    // The module table leads; the comparison's declared-by-module table does not repeat it.
    assert.doesNotMatch(comment, /\*\*By module\*\* \(declared parameters\)/);
  });

  test('a call that ran more than once shows parameters × runs', () => {
    const before = report([layer('cell', 8, { executions: 2 })]);
    const after = report([layer('cell', 8, { executions: 5 })]);
    const comment = renderComment(compare(before, after), {
      commentKey: 'k',
      baseReport: before,
      headReport: after,
    });
    assert.match(
      comment,
      /\| <code>cell<\/code> \| <code>Conv2d<\/code> \| 8 × 2 \| 8 × 5 \| 0 \| changed \|/,
    );
  });
});
