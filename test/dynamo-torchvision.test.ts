// torchvision's resnet18, mobilenet_v3_small and googlenet (aux_logits=True, init_weights=True) in the PyTorch 2.x
// world (test/support/pythons.ts; absent: skipped loudly, or failing under CI), scored against PyTorch's own
// truth. One Python run (test/support/torch_truth.py --torchvision, in a temp dir: the files are too big to
// commit) measures each model (eval mode, trained-like values: torch_truth.py's trained_like()) as the other
// ground-truth tests do (declared; unique from .grad after backward; calls from forward hooks), and exports it
// twice:
// - with the default torch.onnx.export (PyTorch 2.9+: the dynamo exporter, its optimizer on), analyzed from the
//   graph and traced in onnxruntime. Where the file cannot show PyTorch's declared count, the graph figures are
//   derived in Python from the model (torch_truth.py's torchvision_case()), not written here;
// - with python/paramtrace_torch.py (its default route, manifest attached): PyTorch's counts exactly.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { TORCH2_ENV, TRUTH_SCRIPT } from './support/torch-truth.ts';

const env = TORCH2_ENV;
const MODELS = ['resnet18', 'mobilenet_v3_small', 'googlenet'] as const;

interface TorchvisionTruth {
  name: string;
  torchVersion: string;
  torchvisionVersion: string;
  modelClass: string;
  declared: number;
  unique: number;
  summary: number;
  shared: string[];
  unused: { name: string; numel: number }[];
  dynamo: {
    onnx: string;
    /** What the dynamo file alone holds, derived from the model: unique - bnParams + convBiases. */
    graph: number;
    /** GoogLeNet's aux1 and aux2 parameters (0 elsewhere): declared, not used in eval mode. */
    auxHeads: number;
    /** The BatchNorm2d layers forward uses, each after a bias-free Conv2d (asserted in Python). */
    batchNorms: number;
    /** Their weight and bias: 2 x channels. */
    bnParams: number;
    /** The Conv biases they fold into: 1 x channels. */
    convBiases: number;
    batchNormalizationNodes: number;
    convNodes: number;
  };
  helper: { onnx: string; exporter: string; altered: string[] };
}

let made: { dir?: string; error?: string } | undefined;

/** The directory torch_truth.py --torchvision wrote, made once for the file's tests (about 20-60 s). */
function outDir(): string {
  if (!made) {
    const dir = mkdtempSync(path.join(tmpdir(), 'paramtrace-torchvision-'));
    const r = env.runPython([TRUTH_SCRIPT, '--torchvision', dir, ...MODELS], { timeoutMs: 600_000 });
    made =
      r.status === 0
        ? { dir }
        : {
            dir,
            error: `${env.label} torch_truth.py --torchvision failed (exit ${r.status ?? r.signal}): ${`${r.stderr ?? ''}`.trim().split('\n').slice(-8).join(' | ')}`,
          };
  }
  if (made.error !== undefined) throw new Error(made.error);
  return made.dir!;
}

after(() => {
  if (made?.dir) rmSync(made.dir, { recursive: true, force: true });
});

function readTruth(name: string): TorchvisionTruth {
  return JSON.parse(
    readFileSync(path.join(outDir(), `${name}.torchvision.json`), 'utf8'),
  ) as TorchvisionTruth;
}

for (const name of MODELS) {
  test(
    `${env.label} ${name}, default torch.onnx.export (dynamo), traced: the graph's figures, derived from PyTorch's`,
    { timeout: 600_000 },
    async (t) => {
      if (!env.readyWithTorchvision(t)) return;
      const truth = readTruth(name);
      const d = truth.dynamo;
      assert.deepEqual(truth.shared, [], `${name}: PyTorch calls no parameter twice`);
      assert.equal(truth.summary, truth.unique, `${name}: no sharing, so summary-style is unique`);

      // Why the file cannot show PyTorch's declared count:
      // 1. Only what forward uses is exported: PyTorch's unique. In eval mode GoogLeNet never calls its auxiliary
      //    heads (aux1, aux2), so declared - unique is exactly their parameters; the other two use everything.
      assert.equal(
        truth.declared - truth.unique,
        d.auxHeads,
        `${name}: declared - unique = the aux heads' numel`,
      );
      assert.equal(
        truth.unused.reduce((n, u) => n + u.numel, 0),
        d.auxHeads,
        `${name}: the unused parameters are the aux heads'`,
      );
      assert.ok(
        truth.unused.every((u) => /^aux[12]\./.test(u.name)),
        `${name}: unused ${truth.unused.map((u) => u.name).join(', ')}`,
      );
      if (name === 'googlenet') assert.ok(d.auxHeads > 0, 'googlenet declares its aux heads');
      // 2. The exporter's optimizer folds every BatchNorm2d into the bias-free Conv2d before it: its weight and
      //    bias (2 x C) become one Conv bias (C), and no BatchNormalization node is left.
      assert.equal(d.batchNormalizationNodes, 0, `${name}: every BatchNorm folded into its Conv`);
      assert.ok(d.batchNorms > 0 && d.convBiases * 2 === d.bnParams, `${name}: ${JSON.stringify(d)}`);
      // So the file holds PyTorch's unique - BN weight and bias + folded Conv biases, used once each: declared,
      // unique and summary-style of the graph alike.
      assert.equal(d.graph, truth.unique - d.bnParams + d.convBiases);
      assert.notEqual(d.graph, truth.declared, `${name}: listed as differing from PyTorch's declared`);

      const report = await analyzeFile(path.join(outDir(), d.onnx), {
        trace: { device: 'cpu' },
        traceRequired: true,
      });
      assert.equal(report.trace.mode, 'onnxruntime', JSON.stringify(report.trace));
      assert.equal(report.source, 'graph');
      assert.deepEqual(
        { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
        { declared: d.graph, unique: d.graph, summary: d.graph },
        `${name}: the graph's counts (PyTorch: declared ${truth.declared}, unique ${truth.unique}, summary ${truth.summary}; ` +
          `aux heads ${d.auxHeads} dropped; ${d.batchNorms} BatchNorms, ${d.bnParams} parameters, folded into ${d.convBiases} Conv biases)`,
      );
      assert.deepEqual(report.shared, [], `${name}: no parameter is shared`);
      assert.deepEqual(report.unused, [], `${name}: nothing the file holds is unused`);
      assert.deepEqual(report.duplicates, []);
      assert.deepEqual(report.valueMerged, []);
    },
  );

  test(
    `${env.label} ${name}, the helper's export: PyTorch's declared, unique and summary-style exactly`,
    { timeout: 600_000 },
    async (t) => {
      if (!env.readyWithTorchvision(t)) return;
      const truth = readTruth(name);
      assert.deepEqual(truth.helper.altered, [], `${name}: the helper's export is faithful`);
      const report = await analyzeFile(path.join(outDir(), truth.helper.onnx));
      assert.equal(report.source, 'manifest');
      assert.deepEqual(
        { declared: report.counts.declared, unique: report.counts.unique, summary: report.counts.summary },
        { declared: truth.declared, unique: truth.unique, summary: truth.summary },
        `${name} (${truth.helper.exporter} exporter)`,
      );
      assert.deepEqual([report.counts.trainable, report.counts.frozen], [truth.declared, 0]);
      assert.deepEqual(report.shared, [], `${name}: no parameter is shared`);
      // GoogLeNet's aux heads: declared, never run in eval mode, so not exported; the others use everything.
      assert.deepEqual(
        Object.fromEntries(report.unused.map((u) => [u.name, [u.reason, u.numel]])),
        Object.fromEntries(truth.unused.map((u) => [u.name, ['not-exported', u.numel]])),
      );
      if (name === 'googlenet') assert.equal(report.unused.length, 14, 'aux1 and aux2: 7 parameters each');
      else assert.deepEqual(report.unused, []);
    },
  );
}
