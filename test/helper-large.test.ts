// The helper on a model over protobuf's 2 GiB: its weights must go to external data beside the ONNX file,
// which the TorchScript exporter writes only for a path. Before, the helper always exported into memory, so
// every such model (regnet_y_128gf, vit_h_14) failed to export. One world is enough (Debian's 1.13, the
// helper's default route there); it takes about a minute and 7 GB of memory, so it is one test.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { ROOT, TORCH1_ENV } from './support/torch-truth.ts';

const work = mkdtempSync(join(tmpdir(), 'paramtrace-helper-large-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** 8,500,000 x 64 float32 = 2,176,000,000 bytes: over 2 GiB (2,147,483,648). */
const ROWS = 8_500_000;
const DIM = 64;

const SCRIPT = `
import sys, torch
sys.path.insert(0, sys.argv[1])
import paramtrace_torch as pt
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(${ROWS}, ${DIM})
        self.unused = torch.nn.Linear(4, 4)
    def forward(self, idx):
        return self.emb(idx).sum()
pt.export(M(), (torch.tensor([1, 2, 3]),), sys.argv[2])
`;

test('a model over 2 GiB: exported with its weights beside the file and the manifest embedded', async (t) => {
  if (!TORCH1_ENV.ready(t)) return;
  const file = join(work, 'model.onnx');
  const run = spawnSync(TORCH1_ENV.python, ['-c', SCRIPT, join(ROOT, 'python'), file], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, run.stderr.slice(-3000));
  // The structure is small; the weight is one external file beside it, and nothing else was left there.
  assert.ok(statSync(file).size < 64 * 1024, `model.onnx is ${statSync(file).size} bytes`);
  assert.deepEqual(readdirSync(work).sort(), ['emb.weight', 'model.onnx']);
  assert.equal(statSync(join(work, 'emb.weight')).size, ROWS * DIM * 4);

  const report = await analyzeFile(file, {
    trace: { values: { input: ['1', '2', '3'] } },
    traceRequired: true,
  });
  assert.equal(report.source, 'manifest', 'the manifest is embedded in the structure');
  assert.equal(report.trace.mode, 'onnxruntime');
  assert.equal(report.counts.declared, ROWS * DIM + 4 * 4 + 4);
  assert.equal(report.counts.unique, ROWS * DIM);
  assert.deepEqual(
    report.unused.map((u) => [u.name, u.reason]),
    [
      ['unused.weight', 'not-exported'],
      ['unused.bias', 'not-exported'],
    ],
  );
});
