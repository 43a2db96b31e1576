// The trace's renaming (src/trace/rename-nodes.ts) changes node names and nothing else: a property test
// over a few hundred seeded random models that carry every field of every onnx.proto message (attributes
// of every type, negative and huge int64s, packed and unpacked repeated fields, subgraphs, functions,
// training info), decoded before and after with protobufjs' reflection. Only the names of the nodes the
// renamer walks (main graph and If/Loop/Scan subgraphs) become `pt_<id>`; renameNodesInFile also moves
// large tensor payloads to external-data references, which must point at the payload's bytes in the file.
// Last, models with `axis = -1` and an INT64_MAX Slice end run through real onnxruntime.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import protobuf from 'protobufjs/light.js';
import { MemorySource } from '../src/onnx/byte-source.ts';
import { ONNX_FIELDS } from '../src/onnx/onnx-fields.generated.ts';
import { ONNX_PROTO_JSON } from '../src/onnx/onnx-proto.generated.ts';
import { onnxRoot, tensorInfo } from './support/onnx-reflection.ts';
import { readModel } from '../src/onnx/read-model.ts';
import { decodeModel } from '../src/onnx/stream-decode.ts';
import { analyzeFile } from '../src/pipeline/analyze-file.ts';
import { traceModel } from '../src/trace/index.ts';
import {
  renameNodes,
  renameNodesInFile,
  type RenamedModel,
  type RenamedNode,
} from '../src/trace/rename-nodes.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'paramtrace-rename-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A message as protobufjs' fromObject takes it and toObject gives it. */
type Msg = { [field: string]: unknown };
const msgs = (value: unknown): Msg[] => (value as Msg[] | undefined) ?? [];

const INT64_MIN = '-9223372036854775808';
const INT64_MAX = '9223372036854775807';
const UINT64_MAX = '18446744073709551615';
/** int64 values that take every varint length, 10-byte negative ones included. */
const INT64S = [
  '0',
  '1',
  '-1',
  '300',
  '-2147483648',
  '2147483647',
  '34359738368',
  '-34359738368',
  '9007199254740993',
  INT64_MIN,
  INT64_MAX,
];
const UINT64S = ['0', '1', '34359738368', '9223372036854775808', UINT64_MAX];
const INT32S = [0, 1, -1, 7, 300, -2147483648, 2147483647];

const { AttributeType, DataType } = {
  AttributeType: ONNX_PROTO_JSON.nested.onnx.nested.AttributeProto.nested.AttributeType.values,
  DataType: ONNX_PROTO_JSON.nested.onnx.nested.TensorProto.nested.DataType.values,
};
/** Every attribute type but UNDEFINED. */
const ATTRIBUTE_TYPES = Object.values(AttributeType).filter((t) => t !== AttributeType.UNDEFINED);
const GRAPH_TYPES: readonly number[] = [AttributeType.GRAPH, AttributeType.GRAPHS];

/**
 * onnx.proto with every repeated scalar field packed, or none: a model encoded with one or the other
 * holds ints, floats, dims and tensor data in both wire forms.
 */
function encodingRoot(packed: boolean): protobuf.Root {
  const json = structuredClone(ONNX_PROTO_JSON) as unknown as protobuf.INamespace;
  const visit = (ns: protobuf.INamespace): void => {
    for (const nested of Object.values(ns.nested ?? {})) {
      const fields = (nested as protobuf.IType).fields ?? {};
      for (const field of Object.values(fields) as (protobuf.IField & { rule?: string })[]) {
        if (field.rule === 'repeated' && /^(u?int(32|64)|float|double|bool)$/.test(field.type)) {
          field.options = { ...field.options, packed };
        }
      }
      visit(nested as protobuf.INamespace);
    }
  };
  visit(json);
  const root = protobuf.Root.fromJSON(json);
  root.resolveAll();
  return root;
}
const ENCODERS = { packed: encodingRoot(true), unpacked: encodingRoot(false) };

function encode(model: Msg, packed: boolean): Uint8Array {
  const type = ENCODERS[packed ? 'packed' : 'unpacked'].lookupType('onnx.ModelProto');
  return type.encode(type.fromObject(model)).finish();
}

const MODEL_TYPE = onnxRoot().lookupType('onnx.ModelProto');
/** The reference decoding: int64s as exact strings, bytes as base64, nothing filled in. */
function decode(bytes: Uint8Array): Msg {
  return MODEL_TYPE.toObject(MODEL_TYPE.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
  }) as Msg;
}

/** mulberry32: a small seeded PRNG, the same models on every run. */
class Random {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  list<T>(max: number, make: () => T): T[] {
    return Array.from({ length: this.int(max + 1) }, make);
  }
  bits64(): bigint {
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }
}

const MAX_DEPTH = 3;
/** Payloads at least this large are moved to external data by renameNodesInFile (EXTERNAL_ABOVE). */
const LARGE = 16 * 1024;

/**
 * Random models in protobufjs' fromObject form. Graph-valued attributes have names unique in their node
 * (ONNX requires it; the ids of their subgraphs' nodes depend on it). Large tensors are named `big_<kind>`.
 */
class ModelMaker {
  private nodesLeft = 40;
  private bigLeft: number;
  private tensors = 0;

  constructor(private readonly r: Random) {
    this.bigLeft = r.chance(0.25) ? 1 + r.int(3) : 0;
  }

  model(): Msg {
    const r = this.r;
    return {
      ir_version: this.int64(),
      opset_import: r.list(2, () => ({ domain: this.maybe(this.text()), version: this.int64() })),
      producer_name: this.maybe(this.text()),
      producer_version: this.maybe(this.text()),
      domain: this.maybe(this.text()),
      model_version: this.maybe(this.int64()),
      doc_string: this.maybe(this.text()),
      graph: r.chance(0.97) ? this.graph(0) : undefined,
      metadata_props: this.entries(),
      training_info: r.list(1, () => ({
        initialization: this.maybe(this.graph(1)),
        algorithm: this.maybe(this.graph(1)),
        initialization_binding: this.entries(),
        update_binding: this.entries(),
      })),
      functions: r.list(2, () => ({
        name: this.maybe(this.text()),
        input: r.list(2, () => this.text()),
        output: r.list(2, () => this.text()),
        attribute: r.list(2, () => this.text()),
        node: r.list(2, () => this.node(1)),
        doc_string: this.maybe(this.text()),
        opset_import: r.list(1, () => ({ domain: this.text(), version: this.int64() })),
        domain: this.maybe(this.text()),
      })),
    };
  }

  graph(depth: number): Msg {
    const r = this.r;
    const count = Math.min(this.nodesLeft, r.int(depth === 0 ? 6 : 3));
    this.nodesLeft -= count;
    return {
      node: Array.from({ length: count }, () => this.node(depth)),
      name: this.maybe(this.text()),
      initializer: r.list(2, () => this.tensor()),
      sparse_initializer: r.list(1, () => this.sparseTensor()),
      doc_string: this.maybe(this.text()),
      input: r.list(2, () => this.valueInfo()),
      output: r.list(2, () => this.valueInfo()),
      value_info: r.list(2, () => this.valueInfo()),
      quantization_annotation: r.list(1, () => ({
        tensor_name: this.maybe(this.text()),
        quant_parameter_tensor_names: this.entries(),
      })),
    };
  }

  node(depth: number): Msg {
    const r = this.r;
    const opType = r.pick(['If', 'Loop', 'Scan', 'Relu', 'MatMul', 'Custom', '']);
    const attribute: Msg[] = [];
    const graphs = depth < MAX_DEPTH && this.nodesLeft > 0;
    if (graphs && opType === 'If') {
      attribute.push(this.attribute('then_branch', AttributeType.GRAPH, depth));
      attribute.push(this.attribute('else_branch', AttributeType.GRAPH, depth));
    } else if (graphs && (opType === 'Loop' || opType === 'Scan')) {
      attribute.push(this.attribute('body', AttributeType.GRAPH, depth));
    }
    for (let i = r.int(4); i > 0; i--) {
      const types = graphs ? ATTRIBUTE_TYPES : ATTRIBUTE_TYPES.filter((t) => !GRAPH_TYPES.includes(t));
      attribute.splice(r.int(attribute.length + 1), 0, this.attribute(`a${i}`, r.pick(types), depth));
    }
    return {
      input: r.list(3, () => this.text()),
      output: r.list(2, () => this.text()),
      name: r.pick([undefined, '', 'dup', this.text()]),
      op_type: opType || undefined,
      domain: this.maybe(this.text()),
      attribute,
      doc_string: this.maybe(this.text()),
      overload: this.maybe(this.text()),
      metadata_props: this.entries(),
    };
  }

  attribute(name: string, type: number, depth: number): Msg {
    const r = this.r;
    const a: Msg = {
      name,
      // Old files may leave the type out (the renamer infers it); a negative one is a 10-byte varint.
      type: r.chance(0.05) ? undefined : r.chance(0.02) ? -1 : type,
      doc_string: this.maybe(this.text(), 0.2),
      ref_attr_name: this.maybe(this.text(), 0.1),
    };
    switch (type) {
      case AttributeType.FLOAT:
        a.f = this.float();
        break;
      case AttributeType.INT:
        a.i = this.int64();
        break;
      case AttributeType.STRING:
        a.s = this.bytes();
        break;
      case AttributeType.TENSOR:
        a.t = this.tensor();
        break;
      case AttributeType.GRAPH:
        a.g = this.graph(depth + 1);
        break;
      case AttributeType.FLOATS:
        a.floats = r.list(4, () => this.float());
        break;
      case AttributeType.INTS:
        a.ints = r.chance(0.3) ? ['-1', INT64_MIN, INT64_MAX] : r.list(5, () => this.int64());
        break;
      case AttributeType.STRINGS:
        a.strings = r.list(3, () => this.bytes());
        break;
      case AttributeType.TENSORS:
        a.tensors = r.list(2, () => this.tensor());
        break;
      case AttributeType.GRAPHS:
        a.graphs = Array.from({ length: 1 + r.int(2) }, () => this.graph(depth + 1));
        break;
      case AttributeType.SPARSE_TENSOR:
        a.sparse_tensor = this.sparseTensor();
        break;
      case AttributeType.SPARSE_TENSORS:
        a.sparse_tensors = r.list(2, () => this.sparseTensor());
        break;
      case AttributeType.TYPE_PROTO:
        a.tp = this.typeProto(0);
        break;
      case AttributeType.TYPE_PROTOS:
        a.type_protos = r.list(2, () => this.typeProto(0));
        break;
    }
    // A stray field of another type: kept as it is, and a graph there is not walked (unless the type is out).
    if (r.chance(0.05)) a.i = this.int64();
    if (r.chance(0.03) && depth < MAX_DEPTH && !GRAPH_TYPES.includes(type)) a.g = this.graph(depth + 1);
    return a;
  }

  tensor(): Msg {
    const r = this.r;
    if (this.bigLeft > 0 && r.chance(0.2)) return this.bigTensor();
    const t: Msg = {
      name: this.maybe(`t${this.tensors++}`, 0.9),
      dims: r.list(3, () => (r.chance(0.8) ? String(r.int(5)) : this.int64())),
      data_type: r.chance(0.9) ? r.pick(Object.values(DataType)) : r.pick(INT32S),
      doc_string: this.maybe(this.text(), 0.2),
    };
    const payloads = [
      'float_data',
      'int32_data',
      'string_data',
      'int64_data',
      'raw_data',
      'double_data',
      'uint64_data',
    ];
    for (let i = r.int(3); i > 0; i--) {
      switch (r.pick(payloads)) {
        case 'float_data':
          t.float_data = r.list(5, () => this.float());
          break;
        case 'int32_data':
          t.int32_data = r.list(5, () => r.pick(INT32S));
          break;
        case 'string_data':
          t.string_data = r.list(3, () => this.bytes());
          break;
        case 'int64_data':
          t.int64_data = r.chance(0.3) ? ['-1', INT64_MIN, '-2'] : r.list(5, () => this.int64());
          break;
        case 'raw_data':
          t.raw_data = this.bytes();
          break;
        case 'double_data':
          t.double_data = r.list(5, () => this.float());
          break;
        case 'uint64_data':
          t.uint64_data = r.chance(0.3)
            ? [UINT64_MAX, '9223372036854775808']
            : r.list(5, () => this.uint64());
          break;
      }
    }
    if (r.chance(0.05)) t.segment = { begin: this.int64(), end: this.int64() };
    if (r.chance(0.05)) t.external_data = this.entries();
    if (r.chance(0.05)) t.data_location = r.pick([0, 1]);
    return t;
  }

  /** A tensor whose one little-endian payload is large enough to be moved to external data. */
  bigTensor(): Msg {
    const r = this.r;
    this.bigLeft--;
    const kind = r.pick(['raw', 'float', 'double'] as const);
    const name = `big_${kind}_${this.tensors++}`;
    if (kind === 'raw') {
      const raw = Uint8Array.from({ length: LARGE + 4 * r.int(1000) }, () => r.int(256));
      return { name, dims: [String(raw.length / 4)], data_type: DataType.FLOAT, raw_data: raw };
    }
    const size = (LARGE + 8 * r.int(500)) / (kind === 'float' ? 4 : 8);
    const values = Array.from({ length: size }, () => Math.fround(r.next() * 100 - 50));
    return kind === 'float'
      ? {
          name,
          dims: [String(size)],
          data_type: r.pick([DataType.FLOAT, DataType.COMPLEX64]),
          float_data: values,
        }
      : {
          name,
          dims: [String(size)],
          data_type: r.pick([DataType.DOUBLE, DataType.COMPLEX128]),
          double_data: values,
        };
  }

  sparseTensor(): Msg {
    const r = this.r;
    return {
      values: this.maybe(this.tensor(), 0.9),
      indices: this.maybe(
        { dims: [String(r.int(4))], data_type: DataType.INT64, int64_data: r.list(3, () => this.int64()) },
        0.9,
      ),
      dims: r.list(3, () => this.int64()),
    };
  }

  typeProto(depth: number): Msg {
    const r = this.r;
    const shape = (): Msg => ({
      dim: r.list(3, () => ({
        ...(r.chance(0.5) ? { dim_value: this.int64() } : { dim_param: this.text() }),
        denotation: this.maybe(this.text(), 0.2),
      })),
    });
    const kinds =
      depth >= 2 ? ['tensor', 'sparse'] : ['tensor', 'sequence', 'map', 'optional', 'sparse', 'none'];
    const value: Msg = {};
    switch (r.pick(kinds)) {
      case 'tensor':
        value.tensor_type = { elem_type: r.pick(INT32S), shape: this.maybe(shape()) };
        break;
      case 'sequence':
        value.sequence_type = { elem_type: this.maybe(this.typeProto(depth + 1)) };
        break;
      case 'map':
        value.map_type = { key_type: r.pick(INT32S), value_type: this.maybe(this.typeProto(depth + 1)) };
        break;
      case 'optional':
        value.optional_type = { elem_type: this.maybe(this.typeProto(depth + 1)) };
        break;
      case 'sparse':
        value.sparse_tensor_type = { elem_type: r.pick(INT32S), shape: this.maybe(shape()) };
        break;
    }
    value.denotation = this.maybe(this.text(), 0.2);
    return value;
  }

  valueInfo(): Msg {
    return {
      name: this.text(),
      type: this.maybe(this.typeProto(0)),
      doc_string: this.maybe(this.text(), 0.2),
    };
  }

  entries(): Msg[] {
    return this.r.list(2, () => ({ key: this.maybe(this.text(), 0.9), value: this.maybe(this.text(), 0.9) }));
  }

  int64(): string {
    return this.r.chance(0.6) ? this.r.pick(INT64S) : BigInt.asIntN(64, this.r.bits64()).toString();
  }

  uint64(): string {
    return this.r.chance(0.6) ? this.r.pick(UINT64S) : this.r.bits64().toString();
  }

  float(): number {
    return this.r.chance(0.3)
      ? this.r.pick([0, -0, 1.5, -2.25, 3.4e38, 1e-45, Infinity, NaN])
      : this.r.next() * 1e6 - 5e5;
  }

  text(): string {
    return this.r.pick(['', 'x', 'dup', 'ñø∂é 😀', 'pt_0', 'y'.repeat(150), `n${this.r.int(1000)}`]);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.r.list(12, () => this.r.int(256)));
  }

  maybe<T>(value: T, p = 0.5): T | undefined {
    return this.r.chance(p) ? value : undefined;
  }
}

/** An attribute's type as the renamer takes it: when left out, inferred from the field present. */
function effectiveType(a: Msg): number {
  const type = (a.type as number | undefined) ?? 0;
  if (type !== 0) return type;
  return a.g ? AttributeType.GRAPH : a.t ? 0 : msgs(a.graphs).length ? AttributeType.GRAPHS : 0;
}

interface RenameCheck {
  /** Trace names of the nodes renamed, `pt_<id>`. */
  renamed: number;
  /** Kinds of the tensors moved to external data (`raw`, `float`, `double`). */
  externalized: string[];
  /** `main:<attribute type>` and `sub:<attribute type>`: attribute types on walked nodes. */
  attributeTypes: Set<string>;
}

/**
 * Checks that `renamed` is `original` (decoded: `before`) with only the walked nodes' names changed, to `pt_<id>`, and (with
 * `file`) large payloads of walked tensors moved to external-data references to their bytes in the file.
 */
function checkRename(
  original: Uint8Array,
  before: Msg,
  renamed: RenamedModel,
  file?: { location: string; packed: boolean },
): RenameCheck {
  const afterRename = decode(renamed.bytes);
  const expectedNodes = new Map<string, RenamedNode>();
  const result: RenameCheck = { renamed: 0, externalized: [], attributeTypes: new Set() };
  let ownExternalData = false;

  const visitTensor = (t: Msg, out: Msg): void => {
    if (!file) return;
    if (t.data_location === 1) ownExternalData = true;
    const name = String(t.name ?? '');
    const kind = /^big_(raw|float|double)_/.exec(name)?.[1];
    const moved = t.data_location === undefined && out.data_location !== undefined;
    // Floats and doubles are one little-endian payload only when packed.
    assert.equal(moved, kind === 'raw' || (kind !== undefined && file.packed), `tensor '${name}' moved`);
    if (!moved) return;
    result.externalized.push(kind!);
    const key = `${kind === 'raw' ? 'raw' : kind}_data`;
    const bytes =
      kind === 'raw'
        ? Buffer.from(t.raw_data as string, 'base64')
        : Buffer.from((kind === 'float' ? Float32Array : Float64Array).from(t[key] as number[]).buffer);
    assert.equal(out.data_location, 1);
    const entries = msgs(out.external_data).map((e) => [e.key, e.value]);
    assert.deepEqual(
      entries.map(([k]) => k),
      ['location', 'offset', 'length'],
    );
    assert.equal(entries[0]![1], file.location);
    const offset = Number(entries[1]![1]);
    const length = Number(entries[2]![1]);
    assert.equal(length, bytes.length);
    assert.ok(Buffer.from(original.subarray(offset, offset + length)).equals(bytes), `payload of '${name}'`);
    delete out.data_location;
    delete out.external_data;
    out[key] = t[key];
  };

  const walkGraph = (g: Msg, out: Msg | undefined, prefix: string): void => {
    assert.ok(out, `graph ${prefix || 'main'} lost`);
    const nodes = msgs(g.node);
    const outNodes = msgs(out.node);
    assert.equal(outNodes.length, nodes.length);
    nodes.forEach((n, i) => {
      const id = `${prefix}${i}`;
      const o = outNodes[i]!;
      const traceName = `pt_${id}`;
      assert.equal(o.name, traceName);
      assert.ok(!expectedNodes.has(traceName), `${traceName} twice`);
      expectedNodes.set(traceName, {
        id,
        originalName: (n.name as string | undefined) ?? '',
        opType: (n.op_type as string | undefined) ?? '',
      });
      result.renamed++;
      if ('name' in n) o.name = n.name;
      else delete o.name;
      const outAttributes = msgs(o.attribute);
      msgs(n.attribute).forEach((a, j) => {
        const oa = outAttributes[j]!;
        const attributeId = `${id}/${(a.name as string | undefined) ?? ''}`;
        const type = effectiveType(a);
        result.attributeTypes.add(`${prefix ? 'sub' : 'main'}:${type}`);
        if (type === AttributeType.GRAPH && a.g) walkGraph(a.g as Msg, oa.g as Msg, `${attributeId}/`);
        if (type === AttributeType.GRAPHS) {
          msgs(a.graphs).forEach((sub, k) => walkGraph(sub, msgs(oa.graphs)[k], `${attributeId}.${k}/`));
        }
        if (a.t) visitTensor(a.t as Msg, oa.t as Msg);
      });
    });
    const outInitializers = msgs(out.initializer);
    msgs(g.initializer).forEach((t, k) => visitTensor(t, outInitializers[k]!));
  };

  if (before.graph) walkGraph(before.graph as Msg, afterRename.graph as Msg, '');
  assert.deepStrictEqual(afterRename, before);
  const byName = (m: Map<string, RenamedNode>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
  assert.deepStrictEqual(byName(renamed.nodes), byName(expectedNodes));
  if (file) assert.equal(renamed.ownExternalData, ownExternalData, 'ownExternalData');
  return result;
}

/** `Message.field` for every field set anywhere in `value`, a decoded message of `type`. */
function collectFields(type: protobuf.Type, value: Msg, seen: Set<string>): void {
  for (const [key, item] of Object.entries(value)) {
    const field = type.fields[key]!;
    seen.add(`${type.fullName.slice('.onnx.'.length)}.${key}`);
    if (field.resolvedType instanceof protobuf.Type) {
      for (const child of field.repeated ? msgs(item) : [item as Msg])
        collectFields(field.resolvedType, child, seen);
    }
  }
}

const SEED = 20_251_203;
const MODELS = 300;

test(`property: ${MODELS} random models keep every field through the renaming, only node names change`, () => {
  const file = path.join(scratch, 'model.onnx');
  const fieldsSeen = new Set<string>();
  const attributeTypes = new Set<string>();
  const externalized: string[] = [];
  let renamedNodes = 0;
  for (let index = 0; index < MODELS; index++) {
    const r = new Random(SEED + index);
    const packed = r.chance(0.5);
    const bytes = encode(new ModelMaker(r).model(), packed);
    try {
      const original = decode(bytes);
      collectFields(MODEL_TYPE, original, fieldsSeen);
      // The streaming reader goes through the same wire layer: it takes every one of these models.
      assert.ok(decodeModel(new MemorySource(bytes)));

      const inMemory = renameNodes(bytes);
      const check = checkRename(bytes, original, inMemory);
      renamedNodes += check.renamed;
      for (const t of check.attributeTypes) attributeTypes.add(t);
      assert.ok(Buffer.from(renameNodes(inMemory.bytes).bytes).equals(inMemory.bytes), 'renaming twice');

      writeFileSync(file, bytes);
      const fromFile = renameNodesInFile(file, 'model.onnx');
      externalized.push(
        ...checkRename(bytes, original, fromFile, { location: 'model.onnx', packed }).externalized,
      );
    } catch (error) {
      throw new Error(
        `model ${index} (seed ${SEED + index}, ${packed ? 'packed' : 'unpacked'}): ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  // The models reach everything the property is about.
  const allFields = Object.entries(ONNX_FIELDS).flatMap(([message, fields]) =>
    Object.values(fields).map((f) => `${message}.${f.name}`),
  );
  assert.deepEqual(
    allFields.filter((f) => !fieldsSeen.has(f)),
    [],
    'fields no model set',
  );
  for (const where of ['main', 'sub']) {
    for (const type of ATTRIBUTE_TYPES) assert.ok(attributeTypes.has(`${where}:${type}`), `${where}:${type}`);
  }
  assert.ok(attributeTypes.has('main:-1') && attributeTypes.has('sub:-1'), 'attribute types of -1');
  assert.ok(renamedNodes > 2000, `${renamedNodes} nodes renamed`);
  for (const kind of ['raw', 'float', 'double']) {
    assert.ok(externalized.filter((k) => k === kind).length >= 3, `${kind} payloads moved: ${externalized}`);
  }
});

/** One attribute of each type, with the extreme int64 values; `g` and `graphs` hold `subgraph`. */
function everyAttribute(subgraph: () => Msg): Msg[] {
  const tensor = { name: 'c', dims: ['2'], data_type: DataType.INT64, int64_data: ['-1', INT64_MIN] };
  const sparse = {
    values: tensor,
    indices: { dims: ['2'], data_type: DataType.INT64, int64_data: ['0', '1'] },
    dims: ['4'],
  };
  const type = {
    tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: '-1' }, { dim_param: 'N' }] } },
  };
  return [
    { name: 'f', type: AttributeType.FLOAT, f: -1.5 },
    { name: 'axis', type: AttributeType.INT, i: '-1' },
    { name: 'big', type: AttributeType.INT, i: INT64_MAX },
    { name: 'small', type: AttributeType.INT, i: INT64_MIN },
    { name: 's', type: AttributeType.STRING, s: Buffer.from('ñ') },
    { name: 't', type: AttributeType.TENSOR, t: tensor },
    { name: 'g', type: AttributeType.GRAPH, g: subgraph() },
    { name: 'floats', type: AttributeType.FLOATS, floats: [1, -2, 0.5] },
    { name: 'ints', type: AttributeType.INTS, ints: ['-1', INT64_MIN, INT64_MAX, '34359738368'] },
    { name: 'strings', type: AttributeType.STRINGS, strings: [Buffer.from('a'), Buffer.alloc(0)] },
    {
      name: 'tensors',
      type: AttributeType.TENSORS,
      tensors: [tensor, { name: 'u', data_type: DataType.UINT64, uint64_data: [UINT64_MAX] }],
    },
    { name: 'graphs', type: AttributeType.GRAPHS, graphs: [subgraph(), subgraph()] },
    { name: 'sparse', type: AttributeType.SPARSE_TENSOR, sparse_tensor: sparse },
    { name: 'sparses', type: AttributeType.SPARSE_TENSORS, sparse_tensors: [sparse, sparse] },
    { name: 'tp', type: AttributeType.TYPE_PROTO, tp: type },
    {
      name: 'tps',
      type: AttributeType.TYPE_PROTOS,
      type_protos: [type, { sequence_type: { elem_type: type } }],
    },
  ];
}

test('every attribute type, in the main graph and in If, Loop and Scan bodies, packed and unpacked', () => {
  const leaf = (): Msg => ({
    node: [{ op_type: 'Relu', name: 'leaf', attribute: everyAttribute(() => ({})) }],
  });
  const body = (): Msg => ({
    node: [
      { op_type: 'Softmax', attribute: everyAttribute(leaf) },
      {
        op_type: 'ReduceMean',
        name: 'dup',
        attribute: [{ name: 'axes', type: AttributeType.INTS, ints: ['-1'] }],
      },
    ],
  });
  const big = Float32Array.from({ length: 5000 }, (_, i) => i / 7);
  const model: Msg = {
    ir_version: '8',
    opset_import: [{ domain: '', version: '13' }],
    model_version: INT64_MIN,
    doc_string: 'doc',
    metadata_props: [{ key: 'k', value: 'v' }],
    graph: {
      node: [
        { op_type: 'Softmax', name: 'dup', attribute: everyAttribute(leaf) },
        {
          op_type: 'If',
          name: 'dup',
          attribute: [
            { name: 'then_branch', type: AttributeType.GRAPH, g: body() },
            { name: 'else_branch', type: AttributeType.GRAPH, g: body() },
          ],
        },
        { op_type: 'Loop', attribute: [{ name: 'body', type: AttributeType.GRAPH, g: body() }] },
        {
          op_type: 'Scan',
          attribute: [
            { name: 'body', g: body() },
            { name: 'num_scan_inputs', type: AttributeType.INT, i: '1' },
          ],
        },
      ],
      initializer: [
        { name: 'big_float_w', dims: ['5000'], data_type: DataType.FLOAT, float_data: [...big] },
        { name: 'i64', dims: ['3'], data_type: DataType.INT64, int64_data: ['-1', INT64_MIN, INT64_MAX] },
        {
          name: 'u64',
          dims: ['2'],
          data_type: DataType.UINT64,
          uint64_data: [UINT64_MAX, '9223372036854775808'],
        },
      ],
      sparse_initializer: [
        { values: { name: 'sv', dims: ['1'], data_type: DataType.FLOAT, float_data: [2] }, dims: ['3'] },
      ],
      value_info: [{ name: 'h', type: { tensor_type: { elem_type: DataType.FLOAT } } }],
    },
    training_info: [{ algorithm: body(), update_binding: [{ key: 'a', value: 'b' }] }],
    functions: [{ name: 'f', domain: 'local', node: body().node }],
  };
  const file = path.join(scratch, 'every-attribute.onnx');
  for (const packed of [true, false]) {
    const bytes = encode(model, packed);
    const inMemory = renameNodes(bytes);
    const check = checkRename(bytes, decode(bytes), inMemory);
    // Main: Softmax (with 3 subgraphs of 1 leaf), If (2 bodies), Loop, Scan; each body 2 nodes + 3 leaves.
    assert.equal(check.renamed, 4 + 3 + 4 * 5);
    assert.ok(inMemory.nodes.has('pt_1/then_branch/0/graphs.1/0'));
    assert.ok(inMemory.nodes.has('pt_3/body/0/g/0'), 'a graph attribute without its type');
    writeFileSync(file, bytes);
    const fromFile = checkRename(bytes, decode(bytes), renameNodesInFile(file, 'every-attribute.onnx'), {
      location: 'every-attribute.onnx',
      packed,
    });
    assert.deepEqual(fromFile.externalized, packed ? ['float'] : []);
  }
});

// End to end: the bug this layer fixes made these traces fail with `malformed varint`.
const FLOAT = DataType.FLOAT;

function writeModel(name: string, opset: number, graph: Msg): string {
  const type = onnxRoot().lookupType('onnx.ModelProto');
  const model = {
    ir_version: 8,
    producer_name: 'paramtrace-test',
    opset_import: [{ domain: '', version: opset }],
    graph,
  };
  const file = path.join(scratch, name);
  writeFileSync(file, type.encode(type.fromObject(model)).finish());
  return file;
}

const negativeAxes = (): string =>
  writeModel('negative-axes.onnx', 13, {
    name: 'negative-axes',
    node: [
      { op_type: 'MatMul', name: 'matmul', input: ['x', 'w'], output: ['h'] },
      {
        op_type: 'Softmax',
        name: 'softmax',
        input: ['h'],
        output: ['p'],
        attribute: [{ name: 'axis', type: AttributeType.INT, i: -1 }],
      },
      {
        op_type: 'ReduceMean',
        name: 'mean',
        input: ['p'],
        output: ['y'],
        attribute: [
          { name: 'axes', type: AttributeType.INTS, ints: [-1] },
          { name: 'keepdims', type: AttributeType.INT, i: 1 },
        ],
      },
    ],
    // 4 x 1200 floats: large enough that the renamed model references them in this file.
    initializer: [
      {
        name: 'w',
        dims: [4, 1200],
        data_type: FLOAT,
        float_data: Array.from({ length: 4800 }, (_, i) => (i % 13) / 13),
      },
    ],
    input: [tensorInfo('x', FLOAT, [2, 4])],
    output: [tensorInfo('y', FLOAT, [2, 1])],
  });

const sliceToInt64Max = (): string =>
  writeModel('slice-int64-max.onnx', 9, {
    name: 'slice-int64-max',
    node: [
      {
        op_type: 'Slice',
        name: 'slice',
        input: ['x'],
        output: ['s'],
        attribute: [
          { name: 'starts', type: AttributeType.INTS, ints: [1] },
          { name: 'ends', type: AttributeType.INTS, ints: [INT64_MAX] },
          { name: 'axes', type: AttributeType.INTS, ints: [1] },
        ],
      },
      { op_type: 'MatMul', name: 'matmul', input: ['s', 'w'], output: ['y'] },
    ],
    initializer: [{ name: 'w', dims: [3, 2], data_type: FLOAT, float_data: [1, 2, 3, 4, 5, 6] }],
    input: [tensorInfo('x', FLOAT, [2, 4])],
    output: [tensorInfo('y', FLOAT, [2, 2])],
  });

test('onnxruntime traces MatMul + Softmax(axis=-1) + ReduceMean(axes=[-1])', async () => {
  const file = negativeAxes();
  const trace = await traceModel(readModel(file), { device: 'cpu' });
  assert.deepEqual(
    ['0', '1', '2'].map((id) => [trace.nodes[id]?.executions, trace.nodes[id]?.outputShapes]),
    [
      [1, [[2, 1200]]],
      [1, [[2, 1200]]],
      [1, [[2, 1]]],
    ],
  );
  const report = await analyzeFile(file, { trace: { device: 'cpu' }, traceRequired: true });
  assert.equal(report.trace.mode, 'onnxruntime');
  assert.equal(report.counts.declared, 4800);
});

test('onnxruntime traces an opset-9 Slice whose end is INT64_MAX', async () => {
  const file = sliceToInt64Max();
  const trace = await traceModel(readModel(file), { device: 'cpu' });
  assert.deepEqual(trace.nodes['0']?.outputShapes, [[2, 3]]);
  assert.deepEqual(trace.nodes['1']?.outputShapes, [[2, 2]]);
  const report = await analyzeFile(file, { trace: { device: 'cpu' }, traceRequired: true });
  assert.equal(report.trace.mode, 'onnxruntime');
  assert.equal(report.counts.declared, 6);
});
