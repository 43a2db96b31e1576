// torchvision's resnet18 exported by a plain torch.onnx.export (made in the test run, not committed): the
// graph-only report must explain why it differs from PyTorch's 11,689,512 and must flag no sharing.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { runPython, torchUnavailable } from './support/torch-truth.ts';

const EXPORT = `
import json, sys, torch, torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
torch.onnx.export(model, torch.zeros(1, 3, 64, 64), sys.argv[1], opset_version=13)
bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
print(json.dumps({
    "declared": sum(p.numel() for p in model.parameters()),
    "bnLayers": len(bn),
    "bnChannels": sum(m.num_features for m in bn),
}))
`;

test('resnet18, plain export: BatchNorm folding explained, no sharing flagged', async (t) => {
  const missing = torchUnavailable();
  if (missing) return t.skip(missing);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'paramtrace-resnet-')), 'resnet18.onnx');
  const run = runPython(['-c', EXPORT, file]);
  assert.equal(run.status, 0, run.stderr);
  const truth = JSON.parse(run.stdout) as { declared: number; bnLayers: number; bnChannels: number };
  assert.equal(truth.declared, 11_689_512);

  const report = await analyzeFile(file);
  assert.equal(report.source, 'graph');
  assert.deepEqual(report.shared, [], 'no parameter is shared in resnet18');
  assert.deepEqual(report.unused, []);
  // Each folded BatchNorm's weight and bias (2 x C) became one Conv bias (C): summed per call, that is
  // PyTorch's count less the channels of every BatchNorm.
  assert.equal(report.counts.summary, truth.declared - truth.bnChannels);
  const folding = report.notes.find((n) => /folded BatchNormalization/.test(n));
  assert.ok(folding, `a note explains the folding: ${report.notes.join(' | ')}`);
  assert.match(folding, new RegExp(`^${truth.bnLayers} Conv layer`));
  // The zero biases of the fresh BatchNorms were merged by value: named as such, not as sharing.
  assert.ok(report.valueMerged.length > 0);
  for (const v of report.valueMerged) assert.match(v.name, /^onnx::Conv_\d+$/);
  assert.equal(
    report.counts.declared + report.valueMerged.reduce((n, v) => n + v.numel * (v.callNames.length - 1), 0),
    report.counts.summary,
  );
});
