// The one list of ONNX element types (src/onnx/dtype.ts, DATA_TYPES: each name at its code) agrees with
// the codes of onnx.proto's TensorProto.DataType enum, as generated from the vendored onnx.proto.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DATA_TYPES, dataTypeName, elementBits } from '../src/onnx/dtype.ts';
import { ONNX_PROTO_JSON } from '../src/onnx/onnx-proto.generated.ts';

// onnx.proto's spellings where paramtrace's names differ (it names FLOAT and DOUBLE by their width).
const PROTO_NAME: Record<string, string> = { FLOAT: 'float32', DOUBLE: 'float64' };

test('each data type name sits at its onnx.proto code', () => {
  const codes = ONNX_PROTO_JSON.nested.onnx.nested.TensorProto.nested.DataType.values;
  const entries = Object.entries(codes);
  assert.ok(entries.length >= 17, `${entries.length} codes in the generated enum`);
  for (const [name, code] of entries) {
    assert.equal(DATA_TYPES[code], PROTO_NAME[name] ?? name.toLowerCase(), `code ${code} (${name})`);
    assert.equal(dataTypeName(code), DATA_TYPES[code]);
  }
  // Past the vendored enum: the codes ONNX gave the 8-bit and 4-bit types (onnx.proto, IR version 9-10).
  assert.deepEqual(DATA_TYPES.slice(17), [
    'float8e4m3fn',
    'float8e4m3fnuz',
    'float8e5m2',
    'float8e5m2fnuz',
    'uint4',
    'int4',
    'float4e2m1',
  ]);
  assert.equal(dataTypeName(999), 'unknown');
  assert.equal(dataTypeName(undefined), 'undefined');
  assert.equal(elementBits('int4'), 4);
});
