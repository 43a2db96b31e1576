// Parity on a fixed sample of ONNX backend test models (Debian's libonnx-testdata): every model a plain
// onnxruntime-node session runs with its test inputs, paramtrace traces too, with the same inputs given as
// .pb files. The sample covers If, Loop and Scan, negative attributes, and int64, bool, string and
// float16 inputs. The whole sweep is scripts/parity-sweep.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parityCheck, TESTDATA, type ParityResult } from '../scripts/parity-sweep.ts';

/**
 * Folder under TESTDATA → what it covers. Each ran in a plain session in the full sweep (onnxruntime-node
 * 1.30.0); one that does not here (another runtime) is listed and left out, not failed.
 */
const SAMPLE: Record<string, string> = {
  'node/test_if': 'If',
  'node/test_where_example': 'bool condition input',
  'node/test_loop11': 'Loop with int64 trip count and bool condition inputs',
  'node/test_range_float_type_positive_delta_expanded': 'Loop inside an expanded function',
  'node/test_scan_sum': 'Scan (opset 8, batch axis)',
  'node/test_scan9_sum': 'Scan (opset 9)',
  'node/test_argmax_negative_axis_keepdims_example': 'negative axis',
  'node/test_concat_1d_axis_negative_1': 'negative axis',
  'node/test_flatten_negative_axis1': 'negative axis',
  'node/test_cumsum_2d_negative_axis': 'negative axis, int32 axis input',
  'node/test_slice_negative_axes': 'negative axes input (int64)',
  'node/test_onehot_with_negative_axis': 'negative axis',
  'node/test_compress_negative_axis': 'negative axis, bool condition input',
  'node/test_reshape_negative_dim': 'int64 shape input with -1',
  'node/test_gather_negative_indices': 'negative int64 indices',
  'node/test_gather_0': 'int64 indices',
  'node/test_onehot_negative_indices': 'int64 indices, negative',
  'node/test_mod_mixed_sign_int64': 'int64 inputs',
  'node/test_bitshift_right_uint64': 'uint64 inputs',
  'node/test_range_int32_type_negative_delta': 'int32 scalar inputs',
  'node/test_expand_dim_changed': 'int64 shape input',
  'node/test_and2d': 'bool inputs',
  'node/test_not_2d': 'bool input',
  'node/test_cast_STRING_to_FLOAT': 'string input',
  'node/test_castlike_STRING_to_FLOAT_expanded': 'string input, expanded function',
  'node/test_tfidfvectorizer_tf_only_bigrams_skip0': 'int32 input, negative-free n-grams',
  'node/test_mod_mixed_sign_float16': 'float16 inputs',
  'node/test_lstm_defaults': 'LSTM, omitted optional inputs',
  'pytorch-operator/test_operator_index': 'PyTorch export',
  'pytorch-converted/test_Conv2d': 'PyTorch export',
  'simple/test_expand_shape_model1': 'a small model with an int64 shape input',
};

test('paramtrace traces every sampled backend test model a plain onnxruntime-node session runs', async (t) => {
  if (!existsSync(TESTDATA)) {
    t.skip(`libonnx-testdata not installed: ${TESTDATA} is missing (apt-get install libonnx-testdata)`);
    return;
  }
  const results: ParityResult[] = [];
  for (const folder of Object.keys(SAMPLE)) {
    const dir = path.join(TESTDATA, folder);
    if (!existsSync(dir)) continue;
    results.push(await parityCheck(dir));
  }
  assert.ok(results.length >= 25, `only ${results.length} of the sample's folders exist under ${TESTDATA}`);
  const plainFailed = results.filter((r) => r.plain !== true);
  for (const r of plainFailed)
    t.diagnostic(`left out, the plain session cannot run it: ${r.name}: ${r.plain}`);
  assert.ok(
    results.length - plainFailed.length >= 25,
    `only ${results.length - plainFailed.length} sampled models ran in a plain session`,
  );
  const failed = results
    .filter((r) => r.paramtrace !== true)
    .map((r) => `${r.name}: ${JSON.stringify(r.paramtrace)}`);
  assert.deepEqual(failed, []);
  // The traces saw the bodies of Loop and Scan run: their nodes join like the main graph's.
  for (const name of ['test_loop11', 'test_scan9_sum', 'test_range_float_type_positive_delta_expanded']) {
    const r = results.find((x) => x.name === name);
    if (r?.plain === true) assert.ok((r.tracedNodes ?? 0) >= 3, `${name}: ${r.tracedNodes} nodes traced`);
  }
});
