// The same faithful exports read WITHOUT their manifest: where the file holds every parameter PyTorch uses,
// the graph alone must give PyTorch's own counts (a fill constant made in forward is not a parameter). In both
// PyTorch worlds (test/support/pythons.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze } from '../src/analysis/analyze.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { TensorReader } from '../src/onnx/tensor-bytes.ts';
import { ENVS } from './support/torch-truth.ts';

for (const env of ENVS)
  for (const name of ['seed1', 'seed2', 'repeated_layer', 'lstm_attention', 'tied_embedding'] as const) {
    test(`${env.label} ${name}: graph-only counts equal PyTorch's`, (t) => {
      const reason = env.truthUnavailable(name);
      if (reason) return t.skip(reason);
      const truth = env.readTruth(name);
      const model = readModel(env.truthOnnx(name));
      const content = new TensorReader(model);
      const report = analyze({ model, content });
      content.close();
      assert.equal(report.source, 'graph');
      assert.deepEqual(
        [report.counts.declared, report.counts.unique, report.counts.summary],
        [truth.declared, truth.unique, truth.summary],
      );
    });
  }
