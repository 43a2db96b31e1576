// Static analysis under control flow (docs/counting.md, "Control flow without a trace"): the two branches
// of an If are alternatives, so uses in both never make a parameter shared and summary-style takes the
// heavier branch; a Loop or Scan body counts once and its calls add; a parameter used only inside If
// branches is marked conditional. With a trace, what ran decides and none of these rules applies.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { walkModel } from '../src/analysis/graph-walk.ts';
import { encodeModel, tensorInfo } from './support/onnx-reflection.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { checkReport } from '../src/report/validate.ts';
import { analyzeFixture, fixture } from './support/analyze-fixture.ts';
import { npyBytes } from './support/npy.ts';

const work = mkdtempSync(path.join(tmpdir(), 'paramtrace-control-flow-'));
after(() => rmSync(work, { recursive: true, force: true }));

const FLOAT = 1;
const INT64 = 7;
const BOOL = 9;
const GRAPH = 5; // AttributeProto.GRAPH
const N = 4; // every weight is N x N (16 elements), every activation 1 x N

interface Node {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute?: object[];
}

/** `/scope/MatMul` reading `input` and weight `w`: one call of module `scope`. */
function matmul(scope: string, input: string, w: string, output: string): Node {
  return { op_type: 'MatMul', input: [input, w], output: [output], name: `/${scope}/MatMul` };
}

function graph(name: string, node: Node[], output: string, input: object[] = [], initializer: object[] = []) {
  return { name, node, input, output: [tensorInfo(output, FLOAT, [1, N])], initializer };
}

/** If(cond) over two branch graphs that each end in their own output (read from the outer scope). */
function ifNode(name: string, cond: string, output: string, then: Node[], otherwise: Node[]): Node {
  const thenOut = then.at(-1)!.output[0]!;
  const elseOut = otherwise.at(-1)!.output[0]!;
  return {
    op_type: 'If',
    input: [cond],
    output: [output],
    name,
    attribute: [
      { name: 'then_branch', type: GRAPH, g: graph(`${name}_then`, then, thenOut) },
      { name: 'else_branch', type: GRAPH, g: graph(`${name}_else`, otherwise, elseOut) },
    ],
  };
}

/** Loop(M) carrying one state through `body` (which reads `state_in` and ends in `state_out`). */
function loopNode(name: string, initial: string, output: string, body: Node[]): Node {
  const g = {
    name: `${name}_body`,
    node: [{ op_type: 'Identity', input: ['cond_in'], output: ['cond_out'], name: `${name}/cond` }, ...body],
    input: [
      tensorInfo('iter', INT64, []),
      tensorInfo('cond_in', BOOL, []),
      tensorInfo('state_in', FLOAT, [1, N]),
    ],
    output: [tensorInfo('cond_out', BOOL, []), tensorInfo('state_out', FLOAT, [1, N])],
  };
  return {
    op_type: 'Loop',
    input: ['M', '', initial],
    output: [output],
    name,
    attribute: [{ name: 'body', type: GRAPH, g }],
  };
}

let seed = 1;
/** An N x N float weight with its own values (equal bytes would be merged as duplicated storage). */
function weight(name: string): object {
  const values = new Float32Array(N * N);
  for (let i = 0; i < values.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values[i] = seed / 2 ** 31 - 1;
  }
  return { name, dims: [N, N], data_type: FLOAT, raw_data: new Uint8Array(values.buffer) };
}

/** The main graph over inputs x [1, N], cond and cond2 (bool), M (int64), with the weights named. */
async function analyzeGraph(name: string, nodes: Node[], output: string, weights: string[]): Promise<Report> {
  const file = path.join(work, `${name}.onnx`);
  const main = graph(
    name,
    nodes,
    output,
    [
      tensorInfo('x', FLOAT, [1, N]),
      tensorInfo('cond', BOOL, []),
      tensorInfo('cond2', BOOL, []),
      tensorInfo('M', INT64, []),
    ],
    weights.map(weight),
  );
  writeFileSync(file, encodeModel(main));
  const report = await analyzeFile(file, { trace: false });
  assert.equal(report.trace.mode, 'static');
  return checkReport(JSON.parse(JSON.stringify(report)), name);
}

const counts = (r: Report): number[] => [r.counts.declared, r.counts.unique, r.counts.summary];
const shared = (r: Report): Record<string, number> =>
  Object.fromEntries(r.shared.map((s) => [s.name, s.calls]));
const param = (r: Report, name: string) => r.parameters.find((p) => p.name === name)!;
const conditional = (r: Report): Record<string, string[]> =>
  Object.fromEntries(r.parameters.filter((p) => p.conditional).map((p) => [p.name, p.branches ?? []]));

test('(a) the same weight in then and in else: not shared, counted once in summary-style', async () => {
  const r = await analyzeGraph(
    'then-else',
    [ifNode('/If', 'cond', 'y', [matmul('a', 'x', 'W', 'ya')], [matmul('b', 'x', 'W', 'yb')])],
    'y',
    ['W'],
  );
  assert.deepEqual(counts(r), [16, 16, 16]);
  assert.deepEqual(r.shared, []);
  assert.equal(param(r, 'W').calls, 1);
  // Used on both paths: not conditional.
  assert.deepEqual(conditional(r), {});
  assert.ok(r.notes.some((n) => /1 If node\(s\) run one of two branches/.test(n)));
  // Both calls are still listed as layers, each in its branch.
  assert.deepEqual(
    r.layers.filter((l) => l.parameters.includes('W')).map((l) => [l.name, l.graph]),
    [
      ['a', '0/then_branch'],
      ['b', '0/else_branch'],
    ],
  );
});

test('(b) two calls in one branch share the weight: 2 calls on that path', async () => {
  const r = await analyzeGraph(
    'twice-in-then',
    [
      ifNode(
        '/If',
        'cond',
        'y',
        [matmul('a', 'x', 'W', 'h'), matmul('a_1', 'h', 'W', 'ya')],
        [matmul('b', 'x', 'V', 'yb')],
      ),
    ],
    'y',
    ['W', 'V'],
  );
  assert.deepEqual(shared(r), { W: 2 });
  assert.deepEqual(r.shared[0]!.callNames, ['a', 'a_1']);
  assert.equal(r.shared[0]!.extraInSummary, 16);
  // Summary-style: then runs W twice (32), else V once (16): the heavier branch.
  assert.deepEqual(counts(r), [32, 32, 32]);
  assert.deepEqual(conditional(r), { W: ['/If:then_branch'], V: ['/If:else_branch'] });
});

test('(c) nested If: W in then.then, then.else and else is never shared and never conditional', async () => {
  const inner = ifNode(
    '/If_1',
    'cond2',
    'yt',
    [matmul('p', 'x', 'W', 'ytt')],
    [matmul('q', 'x', 'W', 'yte')],
  );
  const r = await analyzeGraph(
    'nested',
    [ifNode('/If', 'cond', 'y', [inner], [matmul('r', 'x', 'W', 'ye')])],
    'y',
    ['W'],
  );
  assert.deepEqual(counts(r), [16, 16, 16]);
  assert.deepEqual(r.shared, []);
  assert.equal(param(r, 'W').calls, 1);
  assert.deepEqual(conditional(r), {});

  // Nested branches compose: U only in then.then, W in then.else and else (not on the then.then path):
  // both conditional, named by the Ifs that lead to them.
  const deep = await analyzeGraph(
    'nested-one-side',
    [
      ifNode(
        '/If',
        'cond',
        'y',
        [ifNode('/If_1', 'cond2', 'yt', [matmul('p', 'x', 'U', 'ytt')], [matmul('q', 'x', 'W', 'yte')])],
        [matmul('r', 'x', 'W', 'ye')],
      ),
    ],
    'y',
    ['U', 'W'],
  );
  assert.deepEqual(conditional(deep), {
    U: ['/If:then_branch > /If_1:then_branch'],
    W: ['/If:then_branch > /If_1:else_branch', '/If:else_branch'],
  });
  assert.deepEqual(deep.shared, []);
  assert.deepEqual(counts(deep), [32, 32, 16]);
});

test('(d) a weight in the main graph and in one branch: shared, 2 calls on the path through that branch', async () => {
  const r = await analyzeGraph(
    'main-and-branch',
    [
      matmul('m', 'x', 'W', 'h'),
      ifNode('/If', 'cond', 'y', [matmul('t', 'h', 'W', 'yt')], [matmul('e', 'h', 'V', 'ye')]),
    ],
    'y',
    ['W', 'V'],
  );
  assert.deepEqual(shared(r), { W: 2 });
  assert.deepEqual(r.shared[0]!.callNames, ['m', 't']);
  // main 16 + max(then 16, else 16)
  assert.deepEqual(counts(r), [32, 32, 32]);
});

test('(e) branches of different weight: summary-style takes the heavier one, unique counts both', async () => {
  const r = await analyzeGraph(
    'heavier-branch',
    [
      ifNode(
        '/If',
        'cond',
        'y',
        [matmul('p', 'x', 'P', 'h'), matmul('q', 'h', 'Q', 'yt')],
        [matmul('r', 'x', 'R', 'ye')],
      ),
    ],
    'y',
    ['P', 'Q', 'R'],
  );
  // unique 48 (every weight some path uses), summary-style 32 (then: P + Q), not 48.
  assert.deepEqual(counts(r), [48, 48, 32]);
  assert.deepEqual(r.shared, []);
});

test('(f) a Loop body with two calls of W: shared (the body counts once, its calls add)', async () => {
  const r = await analyzeGraph(
    'loop-two-calls',
    [loopNode('/Loop', 'x', 'y', [matmul('l', 'state_in', 'W', 'h'), matmul('l_1', 'h', 'W', 'state_out')])],
    'y',
    ['W'],
  );
  assert.deepEqual(shared(r), { W: 2 });
  assert.deepEqual(counts(r), [16, 16, 32]);
  assert.deepEqual(conditional(r), {}, 'a body is not a branch');
  assert.ok(r.notes.some((n) => /Loop\/Scan body\(ies\) counted once/.test(n)));

  // An If inside the body: its branches are still alternatives (body once, If max).
  const inLoop = await analyzeGraph(
    'if-in-loop',
    [
      loopNode('/Loop', 'x', 'y', [
        ifNode(
          '/If',
          'cond',
          'state_out',
          [matmul('a', 'state_in', 'W', 'ya')],
          [matmul('b', 'state_in', 'W', 'yb')],
        ),
      ]),
    ],
    'y',
    ['W'],
  );
  assert.deepEqual(inLoop.shared, []);
  assert.deepEqual(counts(inLoop), [16, 16, 16]);
});

test('(g) conditional: set for a weight used in one branch only, not for one used in the main graph', async () => {
  const r = await analyzeGraph(
    'conditional',
    [
      matmul('m', 'x', 'A', 'h'),
      ifNode(
        '/If',
        'cond',
        'y',
        [matmul('t', 'h', 'B', 'yt')],
        [{ op_type: 'Relu', input: ['h'], output: ['ye'], name: '/e/Relu' }],
      ),
    ],
    'y',
    ['A', 'B'],
  );
  assert.equal(param(r, 'B').conditional, true);
  assert.deepEqual(param(r, 'B').branches, ['/If:then_branch']);
  assert.equal(param(r, 'B').used, true, 'still used: it counts in unique');
  assert.equal(param(r, 'A').conditional, undefined);
  assert.equal(param(r, 'A').branches, undefined);
  assert.deepEqual(counts(r), [32, 32, 32]);
  assert.deepEqual(r.unused, []);
  assert.ok(r.notes.some((n) => /1 parameter\(s\) are used only inside If branches/.test(n)));
});

test('many Ifs in sequence: counted per If, not by enumerating branch choices', async () => {
  const nodes: Node[] = [];
  let value = 'x';
  for (let i = 0; i < 60; i++) {
    const out = `h${i}`;
    nodes.push(
      ifNode(
        `/If_${i}`,
        'cond',
        out,
        [matmul(`a${i}`, value, 'W', `t${i}`)],
        [matmul(`b${i}`, value, 'V', `e${i}`)],
      ),
    );
    value = out;
  }
  const r = await analyzeGraph('sixty-ifs', nodes, value, ['W', 'V']);
  // On the all-then path W runs 60 times; on the all-else path V does.
  assert.deepEqual(shared(r), { W: 60, V: 60 });
  assert.deepEqual(counts(r), [32, 32, 60 * 16]);
  assert.deepEqual(Object.keys(conditional(r)).sort(), ['V', 'W']);
});

/** A .npy file holding one bool scalar. */
function boolNpy(value: boolean): string {
  const file = path.join(work, `cond-${value}.npy`);
  writeFileSync(file, npyBytes('|b1', [], new Uint8Array([value ? 1 : 0])));
  return file;
}

test("counting.md's worked example, static and traced both ways", async () => {
  const nodes = [
    matmul('m', 'x', 'W', 'h'),
    ifNode(
      '/If',
      'cond',
      'y',
      [matmul('t', 'h', 'W', 'ht'), matmul('u', 'ht', 'U', 'yt')],
      [matmul('e', 'h', 'V', 'ye')],
    ),
  ];
  const r = await analyzeGraph('worked-example', nodes, 'y', ['W', 'U', 'V']);
  assert.deepEqual(counts(r), [48, 48, 48]);
  assert.deepEqual(r.shared, [{ name: 'W', numel: 16, calls: 2, callNames: ['m', 't'], extraInSummary: 16 }]);
  assert.deepEqual(conditional(r), { U: ['/If:then_branch'], V: ['/If:else_branch'] });

  const file = path.join(work, 'worked-example.onnx');
  const traced = async (cond: boolean): Promise<Report> => {
    const report = await analyzeFile(file, {
      trace: { device: 'cpu', inputFiles: { cond: boolNpy(cond) } },
      traceRequired: true,
    });
    assert.equal(report.trace.mode, 'onnxruntime');
    assert.deepEqual(conditional(report), {});
    return report;
  };
  const yes = await traced(true);
  assert.deepEqual(counts(yes), [48, 32, 48]);
  assert.deepEqual(shared(yes), { W: 2 });
  assert.deepEqual(
    yes.unused.map((u) => [u.name, u.reason]),
    [['V', 'not-executed']],
  );
  const no = await traced(false);
  assert.deepEqual(counts(no), [48, 32, 32]);
  assert.deepEqual(no.shared, []);
  assert.deepEqual(
    no.unused.map((u) => [u.name, u.reason]),
    [['U', 'not-executed']],
  );
});

test('the walk records the control-flow tree: If branches are alternatives, a Loop body is not', () => {
  const ifs = walkModel(readModel(fixture('if-branches.onnx')));
  assert.deepEqual(
    [...ifs.subgraphs.values()].map((s) => [s.path, s.parent, s.nodeName, s.attribute, s.kind]),
    [
      // In the file's attribute order (onnx.helper writes else_branch first).
      ['0/else_branch', '', '/If', 'else_branch', 'branch'],
      ['0/then_branch', '', '/If', 'then_branch', 'branch'],
    ],
  );
  const loop = walkModel(readModel(fixture('loop-body.onnx')));
  assert.deepEqual(
    [...loop.subgraphs.values()].map((s) => [s.path, s.kind]),
    [['0/body', 'body']],
  );
});

test('(h) the if-branches fixture: static, each weight conditional, nothing shared, summary-style one branch', async () => {
  const r = await analyzeFixture('if-branches');
  assert.equal(r.trace.mode, 'static');
  assert.deepEqual(counts(r), [24, 24, 12]);
  assert.deepEqual(r.shared, []);
  assert.deepEqual(r.unused, []);
  assert.deepEqual(conditional(r), { W_then: ['/If:then_branch'], W_else: ['/If:else_branch'] });
});

test('(h) the loop-body fixture: unchanged, the body once, nothing conditional', async () => {
  const r = await analyzeFixture('loop-body');
  assert.deepEqual(counts(r), [24, 24, 24]);
  assert.deepEqual(r.shared, []);
  assert.deepEqual(conditional(r), {});
});

test('a real PyTorch 1.13 scripted model runs its LSTM in one branch or the other: no sharing, static or traced', async () => {
  const file = fixture('trace/torch-script-lstm-if.onnx');
  const lstm = ['6', '7', '8', '9']; // LSTM W, R and the two biases: Constant nodes read by both branches
  const pre = ['197', 'pre.bias']; // Linear `pre`, only in the else branch
  const numel = { lstm: 4 * 8 * 4 + 4 * 8 * 8 + 2 * 4 * 8, pre: 4 * 4 + 4, head: 8 * 3 + 3 };

  const stat = await analyzeFile(file, { trace: false });
  assert.equal(stat.trace.mode, 'static');
  assert.deepEqual(stat.shared, [], 'the LSTM in then and in else is one call on any path');
  for (const name of lstm) {
    assert.equal(param(stat, name).calls, 1, name);
    assert.equal(param(stat, name).conditional, undefined, `${name} runs on both paths`);
  }
  assert.deepEqual(conditional(stat), Object.fromEntries(pre.map((p) => [p, ['/If:else_branch']])));
  const all = numel.lstm + numel.pre + numel.head;
  // Summary-style: the else path (LSTM + pre) is the heavier one, and the head runs after the If.
  assert.deepEqual(counts(stat), [all, all, all]);
  assert.deepEqual(stat.unused, []);

  for (const [input, taken] of [
    ['x-ones.npy', 'then'],
    ['x-zeros.npy', 'else'],
  ] as const) {
    const traced = await analyzeFile(file, {
      trace: { device: 'cpu', inputFiles: { flag: fixture(`trace/${input}`) } },
      traceRequired: true,
    });
    assert.equal(traced.trace.mode, 'onnxruntime');
    assert.deepEqual(traced.shared, [], `${taken} branch traced: no sharing either`);
    for (const name of lstm) assert.equal(param(traced, name).calls, 1, `${name} (${taken})`);
    assert.deepEqual(conditional(traced), {}, 'a traced report has no conditional parameters');
    if (taken === 'then') {
      assert.deepEqual(counts(traced), [all, all - numel.pre, all - numel.pre]);
      assert.deepEqual(
        traced.unused.map((u) => [u.name, u.reason]),
        pre.map((p) => [p, 'not-executed']),
      );
    } else {
      assert.deepEqual(counts(traced), [all, all, all]);
      assert.deepEqual(traced.unused, []);
    }
  }
});
