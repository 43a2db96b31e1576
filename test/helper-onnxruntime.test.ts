// The helper's faithful export (no BatchNorm folding, no constant folding, no value merging) still computes what
// the PyTorch model computes: each model of test/support/torch_models.py runs in onnxruntime (CPU) on the inputs
// torch_truth.py used, and its outputs match PyTorch's eval-mode outputs within float tolerance. In both PyTorch
// worlds (test/support/pythons.ts), resnet18 (torchvision's) included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ENVS, MODEL_NAMES, type LoadedArray } from './support/torch-truth.ts';

const RTOL = 1e-3;
const ATOL = 1e-4;

const ORT_TYPES: Record<string, ort.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

function toTensor(a: LoadedArray): ort.Tensor {
  const type = ORT_TYPES[a.dtype];
  if (!type) throw new Error(`no onnxruntime type for ${a.dtype}`);
  return new ort.Tensor(type, a.data as ort.Tensor.DataType, a.shape);
}

for (const env of ENVS)
  for (const name of MODEL_NAMES) {
    test(`${env.label} ${name}: the helper's export runs in onnxruntime and gives PyTorch's outputs`, async (t) => {
      const reason = env.truthUnavailable(name);
      if (reason) return t.skip(reason);
      const truth = env.readTruth(name);
      const session = await ort.InferenceSession.create(env.truthOnnx(name), {
        executionProviders: ['cpu'],
        graphOptimizationLevel: 'disabled',
      });
      try {
        assert.deepEqual(
          [...session.inputNames],
          truth.inputs.map((i) => i.name),
        );
        assert.deepEqual(
          [...session.outputNames],
          truth.outputs.map((o) => o.name),
        );
        const feeds: Record<string, ort.Tensor> = {};
        for (const input of truth.inputs) feeds[input.name] = toTensor(env.readArray(input));
        const results = await session.run(feeds);
        for (const output of truth.outputs) {
          const expected = env.readArray(output);
          const actual = results[output.name];
          assert.ok(actual, `output ${output.name}`);
          assert.deepEqual([...actual.dims], expected.shape, `${output.name} shape`);
          assert.equal(actual.type, expected.dtype, `${output.name} dtype`);
          const got = actual.data as ArrayLike<number | bigint>;
          assert.equal(got.length, expected.data.length);
          let worst = { index: -1, excess: 0, got: 0, want: 0 };
          for (let i = 0; i < got.length; i++) {
            const g = Number(got[i]!);
            const w = Number(expected.data[i]!);
            if (Number.isNaN(g) && Number.isNaN(w)) continue;
            const excess = Math.abs(g - w) - (ATOL + RTOL * Math.abs(w));
            if (!(excess <= worst.excess)) worst = { index: i, excess, got: g, want: w }; // NaN counts as beyond
          }
          assert.equal(
            worst.index,
            -1,
            `${output.name}[${worst.index}]: onnxruntime ${worst.got}, PyTorch ${worst.want} (beyond rtol ${RTOL}, atol ${ATOL})`,
          );
        }
      } finally {
        await session.release();
      }
    });
  }
