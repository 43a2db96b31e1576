// The reader's protobuf code is generated from src/onnx/onnx.proto (scripts/gen-onnx-proto.ts): the
// committed files must be what the generator makes now, and the static decoders must agree with
// protobufjs' reflection of the same .proto.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { onnxProtoSources } from '../scripts/gen-onnx-proto.ts';
import { ONNX_FIELDS, type MessageName } from '../src/onnx/onnx-fields.generated.ts';
import { onnxRoot } from './support/onnx-reflection.ts';
import { onnx } from '../src/onnx/onnx-proto.static.generated.ts';

test('the generated protobuf files are current (npx tsx scripts/gen-onnx-proto.ts)', async () => {
  const sources = await onnxProtoSources();
  assert.equal(Object.keys(sources).length, 3);
  for (const [file, text] of Object.entries(sources)) {
    assert.equal(readFileSync(file, 'utf8'), text, `${file} is stale`);
  }
});

test('the field table and the static decoders cover every message of onnx.proto', () => {
  const root = onnxRoot();
  for (const [name, fields] of Object.entries(ONNX_FIELDS) as [
    MessageName,
    (typeof ONNX_FIELDS)[MessageName],
  ][]) {
    const type = root.lookupType(`onnx.${name}`);
    assert.deepEqual(
      Object.keys(fields).map(Number),
      type.fieldsArray.map((f) => f.id).sort((a, b) => a - b),
      name,
    );
    const codec = name.split('.').reduce((o: Record<string, unknown>, k) => o[k] as never, onnx) as {
      decode(b: Uint8Array): object;
      toObject(m: object, o: object): object;
    };
    assert.equal(typeof codec.decode, 'function', name);
    assert.equal(typeof codec.toObject, 'function', name);
  }
});

test('static decoding equals reflection decoding on a real model', () => {
  const bytes = readFileSync(fileURLToPath(new URL('./fixtures/seed-case-3.onnx', import.meta.url)));
  const options = { longs: String, enums: Number, bytes: Uint8Array, defaults: false };
  const type = onnxRoot().lookupType('onnx.ModelProto');
  const byReflection = type.toObject(type.decode(bytes), options as never);
  const { ModelProto } = onnx as {
    ModelProto: { decode(b: Uint8Array): object; toObject(m: object, o: object): object };
  };
  const byStatic = ModelProto.toObject(ModelProto.decode(bytes), options);
  assert.deepEqual(JSON.parse(JSON.stringify(byStatic)), JSON.parse(JSON.stringify(byReflection)));
  assert.ok((byStatic as { graph: { node: unknown[] } }).graph.node.length > 0);
});
