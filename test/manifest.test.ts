// The analyzer with a declared-parameter manifest, against PyTorch's own ground truth: every model of
// test/support/torch_models.py is measured in PyTorch (parameters(), .grad after backward(), forward hooks) and
// exported with python/paramtrace_torch.py by test/support/torch_truth.py; the report on that file must say
// exactly what PyTorch says. In both worlds (test/support/pythons.ts): PyTorch 1.13 and 2.x, both with torchvision
// (resnet18). A missing world, or a missing torchvision, is skipped, or fails under CI.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import type { Report } from '../src/report/report.ts';
import { ENVS, MODEL_NAMES, type TorchEnv, type Truth } from './support/torch-truth.ts';

const reports = new Map<string, Promise<Report>>();

/**
 * The truth and the report for `name` in one PyTorch world, or undefined after skipping the test when that
 * world's PyTorch is missing, or the model needs torchvision and it is missing (failing under CI in both cases).
 */
async function load(
  t: TestContext,
  env: TorchEnv,
  name: string,
): Promise<{ truth: Truth; report: Report } | undefined> {
  const reason = env.truthUnavailable(name);
  if (reason) {
    t.skip(reason);
    return undefined;
  }
  const key = `${env.world.id}:${name}`;
  if (!reports.has(key)) reports.set(key, analyzeFile(env.truthOnnx(name)));
  return { truth: env.readTruth(name), report: await reports.get(key)! };
}

/**
 * Models whose static report (no trace) differs from PyTorch's truth by design. counting.md: "Without a trace
 * the analysis is static: ... both If branches count as possible". scripted_if runs branch `a` with the truth's
 * input, but statically `b` is used too (unique); a trace will make b.* `not-executed` unused parameters.
 * Summary-style follows one branch ("Control flow without a trace"): a and b are the same size, so it is
 * PyTorch's.
 */
const STATICALLY_USED: Partial<Record<string, string[]>> = { scripted_if: ['b.weight', 'b.bias'] };

// seed-cases.md, "What the project must report for each case", with the manifest.
const SEED_TABLE = {
  seed1: { declared: 18, unique: 18, summary: 18, shared: {}, unused: {} },
  seed2: { declared: 9, unique: 9, summary: 18, shared: { 'conv1.weight': 2 }, unused: {} },
  seed3: {
    declared: 18,
    unique: 9,
    summary: 18,
    shared: { 'conv1.weight': 2 },
    unused: { 'conv2.weight': { reason: 'not-exported', numel: 9 } },
  },
} as const;

for (const env of ENVS) {
  for (const name of MODEL_NAMES) {
    test(`${env.label} ${name}: the report with the helper's manifest says what PyTorch says`, async (t) => {
      const loaded = await load(t, env, name);
      if (!loaded) return;
      const { truth, report } = loaded;
      const alsoUsed = new Set(STATICALLY_USED[name] ?? []);
      const truthParam = new Map(truth.parameters.map((p) => [p.name, p]));
      const staticExtra = [...alsoUsed].reduce((n, p) => n + truthParam.get(p)!.numel, 0);

      assert.equal(report.source, 'manifest');
      assert.equal(report.trace.mode, 'static');
      assert.deepEqual(
        {
          declared: report.counts.declared,
          unique: report.counts.unique,
          summary: report.counts.summary,
          trainable: report.counts.trainable,
          frozen: report.counts.frozen,
          buffers: report.counts.buffers,
        },
        {
          declared: truth.declared,
          unique: truth.unique + staticExtra,
          summary: truth.summary,
          trainable: truth.trainable,
          frozen: truth.frozen,
          buffers: truth.buffers,
        },
      );

      // Parameters: PyTorch's canonical names, each tensor once, aliases resolved.
      assert.deepEqual(
        report.parameters.map((p) => ({
          name: p.name,
          aliases: [...p.aliases].sort(),
          shape: p.shape,
          numel: p.numel,
          trainable: p.trainable,
        })),
        truth.parameters.map((p) => ({
          name: p.name,
          aliases: [...p.aliases].sort(),
          shape: p.shape,
          numel: p.numel,
          trainable: p.requiresGrad,
        })),
      );
      for (const p of report.parameters) {
        const tp = truthParam.get(p.name)!;
        const used = tp.used || alsoUsed.has(p.name);
        assert.equal(p.used, used, `${p.name} used`);
        assert.equal(p.calls, alsoUsed.has(p.name) ? 1 : tp.calls, `${p.name} calls`);
        // A faithful export stores each used tensor once, under its canonical name.
        assert.deepEqual(p.storedAs, used ? [p.name] : [], `${p.name} stored as`);
      }

      // Shared: the names and their call counts; what each adds to summary-style.
      assert.deepEqual(
        Object.fromEntries(report.shared.map((s) => [s.name, s.calls])),
        Object.fromEntries(truth.shared.map((s) => [s.name, s.calls])),
      );
      for (const s of report.shared) assert.equal(s.extraInSummary, s.numel * (s.calls - 1));
      assert.deepEqual(report.valueMerged, []);

      // Unused: every parameter PyTorch never used is one the exporter dropped.
      assert.deepEqual(
        Object.fromEntries(report.unused.map((u) => [u.name, [u.reason, u.numel]])),
        Object.fromEntries(
          truth.unused.filter((u) => !alsoUsed.has(u.name)).map((u) => [u.name, ['not-exported', u.numel]]),
        ),
      );
      assert.equal(report.counts.declared - report.counts.unique, sum(report.unused.map((u) => u.numel)));

      // Buffers apart, from the manifest (exported or not), never in the parameter counts or in a layer's parameters.
      assert.deepEqual(
        report.buffers.map((b) => ({ name: b.name, shape: b.shape, numel: b.numel })),
        truth.bufferTensors.map((b) => ({ name: b.name, shape: b.shape, numel: b.numel })),
      );
      const bufferNames = new Set(report.buffers.map((b) => b.name));
      for (const layer of report.layers) {
        assert.ok(
          !layer.parameters.some((p) => bufferNames.has(p)),
          `layer ${layer.name} lists a buffer as a parameter`,
        );
      }
      // Summary-style is the layers' sum, but an If contributes one branch (counting.md, "Control flow without a
      // trace"): scripted_if's branches are the same size, so the layers of the one PyTorch did not run drop out.
      assert.equal(
        sum(report.layers.map((l) => l.params * l.executions)) - staticExtra,
        report.counts.summary,
      );

      // The faithful export leaves nothing for the mapping to disagree about.
      assert.deepEqual(truth.exported.altered, []);
      const disagreements = report.notes.filter((n) =>
        /disagree|map to no manifest|match several|neither by name/.test(n),
      );
      assert.deepEqual(disagreements, []);
    });
  }

  for (const [name, row] of Object.entries(SEED_TABLE)) {
    test(`${env.label} ${name}: seed-cases.md's row, exactly`, async (t) => {
      const loaded = await load(t, env, name);
      if (!loaded) return;
      const { report } = loaded;
      assert.equal(report.source, 'manifest');
      assert.deepEqual(
        { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
        { declared: row.declared, unique: row.unique, summary: row.summary },
      );
      assert.deepEqual(Object.fromEntries(report.shared.map((s) => [s.name, s.calls])), row.shared);
      assert.deepEqual(
        Object.fromEntries(report.unused.map((u) => [u.name, { reason: u.reason, numel: u.numel }])),
        row.unused,
      );
      for (const s of report.shared) assert.deepEqual([...s.callNames].sort(), ['conv1', 'conv1_1']);
    });
  }

  test(`${env.label} tied_embedding: one parameter emb.weight, alias head.weight, shared by the two calls`, async (t) => {
    const loaded = await load(t, env, 'tied_embedding');
    if (!loaded) return;
    const { report } = loaded;
    const emb = report.parameters.find((p) => p.name === 'emb.weight');
    assert.ok(emb);
    assert.deepEqual(emb.aliases, ['head.weight']);
    assert.deepEqual(emb.storedAs, ['emb.weight']);
    assert.equal(emb.numel, 1600);
    assert.ok(
      !report.parameters.some((p) => p.name === 'head.weight'),
      'the alias is not a parameter of its own',
    );
    assert.deepEqual(report.parameters.map((p) => p.name).sort(), ['emb.weight', 'head.bias']);
    assert.deepEqual(report.shared, [
      { name: 'emb.weight', numel: 1600, calls: 2, callNames: ['emb', 'head'], extraInSummary: 1600 },
    ]);
    assert.deepEqual(report.duplicates, [], 'tied weights are one initializer in a faithful export');
    assert.deepEqual(
      { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
      {
        declared: 1700,
        unique: 1700,
        summary: 3300,
      },
    );
  });

  test(`${env.label} repeated_layer: one Linear applied three times is shared by 3 calls`, async (t) => {
    const loaded = await load(t, env, 'repeated_layer');
    if (!loaded) return;
    const { report } = loaded;
    assert.deepEqual(
      report.shared.map((s) => [s.name, s.calls, s.callNames]),
      [
        ['fc.weight', 3, ['fc', 'fc_1', 'fc_2']],
        ['fc.bias', 3, ['fc', 'fc_1', 'fc_2']],
      ],
    );
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [272, 272, 816]);
  });

  test(`${env.label} unused_module: the auxiliary head forward never calls is unused, not-exported`, async (t) => {
    const loaded = await load(t, env, 'unused_module');
    if (!loaded) return;
    const { report } = loaded;
    assert.deepEqual(
      report.unused.map((u) => [u.name, u.reason, u.numel]),
      [
        ['aux_head.weight', 'not-exported', 320],
        ['aux_head.bias', 'not-exported', 10],
      ],
    );
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [1006, 676, 676]);
  });

  test(`${env.label} resnet18: 11,689,512 declared = unique = summary-style, nothing shared or unused, BatchNorm buffers apart`, async (t) => {
    const loaded = await load(t, env, 'resnet18');
    if (!loaded) return;
    const { truth, report } = loaded;
    assert.deepEqual(
      [report.counts.declared, report.counts.unique, report.counts.summary],
      [11_689_512, 11_689_512, 11_689_512],
    );
    assert.deepEqual([report.counts.trainable, report.counts.frozen], [11_689_512, 0]);
    assert.deepEqual(report.shared, []);
    assert.deepEqual(report.unused, []);
    assert.equal(report.parameters.length, 62);

    // 20 BatchNorm layers: running_mean and running_var (4,800 channels each) are in the file; num_batches_tracked
    // (one int64 each) is never read by an eval-mode graph and not exported, but PyTorch declares it, and the
    // manifest lists it, so buffers count it: 2 x 4,800 + 20 = 9,620, which is PyTorch's sum over named_buffers().
    const exported = new Set(truth.exported.initializers);
    const stats = report.buffers.filter((b) => /running_(mean|var)$/.test(b.name));
    const tracked = report.buffers.filter((b) => b.name.endsWith('num_batches_tracked'));
    assert.equal(stats.length, 40);
    assert.equal(tracked.length, 20);
    assert.equal(report.buffers.length, 60);
    assert.ok(
      stats.every((b) => exported.has(b.name)),
      'running statistics are exported under their names',
    );
    assert.ok(tracked.every((b) => !exported.has(b.name) && b.numel === 1 && b.dtype === 'int64'));
    assert.equal(sum(stats.map((b) => b.numel)), 9_600);
    assert.equal(report.counts.buffers, 9_620);
    assert.equal(report.counts.buffers, truth.buffers);
    assert.equal(sum(report.buffers.filter((b) => exported.has(b.name)).map((b) => b.numel)), 9_600);

    // BatchNorm's own parameters (weight, bias) are parameters, used by their BatchNormalization call.
    const bn = report.layers.find((l) => l.name === 'layer1.0.bn1');
    assert.ok(bn);
    assert.deepEqual([...bn.parameters].sort(), ['layer1.0.bn1.bias', 'layer1.0.bn1.weight']);
    assert.equal(bn.type, 'BatchNorm2d');
  });

  test(`${env.label} frozen_backbone: trainable and frozen split by requires_grad`, async (t) => {
    const loaded = await load(t, env, 'frozen_backbone');
    if (!loaded) return;
    const { report } = loaded;
    assert.deepEqual(
      [report.counts.trainable, report.counts.frozen, report.counts.declared],
      [170, 1392, 1562],
    );
    assert.deepEqual(
      report.parameters.filter((p) => p.trainable).map((p) => p.name),
      ['head.weight', 'head.bias'],
    );
    assert.ok(
      report.parameters
        .filter((p) => p.name.startsWith('backbone.'))
        .every((p) => p.trainable === false && p.used),
    );
  });

  test(`${env.label} lstm_attention: LSTM and attention parameters not named weight/bias are all counted`, async (t) => {
    const loaded = await load(t, env, 'lstm_attention');
    if (!loaded) return;
    const { report } = loaded;
    const odd = [
      'lstm.weight_ih_l0',
      'lstm.weight_hh_l0',
      'lstm.bias_ih_l0',
      'lstm.bias_hh_l0',
      'attn.in_proj_weight',
      'attn.in_proj_bias',
    ];
    for (const name of odd) {
      const p = report.parameters.find((q) => q.name === name);
      assert.ok(p, `${name} is a parameter`);
      assert.ok(p.used && p.calls === 1, `${name} is used once`);
    }
    const lstm = 4 * 32 * 16 + 4 * 32 * 32 + 2 * 4 * 32;
    const attn = 3 * 32 * 32 + 3 * 32 + 32 * 32 + 32;
    assert.deepEqual(
      [report.counts.declared, report.counts.unique, report.counts.summary],
      [lstm + attn, lstm + attn, lstm + attn],
    );
    assert.deepEqual(report.shared, []);
  });

  test(`${env.label} fresh_bn: equal-valued fresh tensors are not taken for shared ones`, async (t) => {
    const loaded = await load(t, env, 'fresh_bn');
    if (!loaded) return;
    const { report } = loaded;
    assert.deepEqual(report.shared, []);
    assert.deepEqual(report.valueMerged, []);
    assert.deepEqual(report.duplicates, []);
    assert.equal(report.counts.buffers, 2 * (8 + 8 + 1));
    assert.equal(report.counts.summary, report.counts.declared);
  });

  test(`${env.label} scripted_if: statically both branches count; PyTorch ran only branch a`, async (t) => {
    const loaded = await load(t, env, 'scripted_if');
    if (!loaded) return;
    const { truth, report } = loaded;
    // PyTorch, with its input (sum > 0): a.* used, b.* unused.
    assert.deepEqual(truth.unused.map((u) => u.name).sort(), ['b.bias', 'b.weight']);
    assert.equal(truth.unique, 72);
    // The report without a trace: both If branches are possible (counting.md), so nothing is unused yet, but
    // they never run together: summary-style is one branch, and every weight is conditional. A trace of the
    // same input will report b.* as `not-executed`.
    assert.equal(report.trace.mode, 'static');
    assert.deepEqual([report.counts.declared, report.counts.unique, report.counts.summary], [144, 144, 72]);
    assert.ok(report.parameters.every((p) => p.conditional === true));
    assert.deepEqual(report.unused, []);
    const branches = report.layers.filter((l) => l.parameters.length > 0);
    assert.deepEqual(branches.map((l) => [...l.parameters].sort()).sort(), [
      ['a.bias', 'a.weight'],
      ['b.bias', 'b.weight'],
    ]);
    assert.ok(
      branches.every((l) => l.graph !== ''),
      'each Linear runs inside an If branch',
    );
  });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
