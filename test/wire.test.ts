// The protobuf wire layer (src/onnx/wire.ts) against protobufjs' Writer as the reference encoder:
// varints of every length, negative and huge int64 values, malformed varints, every wire type ONNX uses,
// and the streaming decoder (stream-decode.ts) accepting and refusing the same bytes as fieldsOf.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { MemorySource } from '../src/onnx/byte-source.ts';
import { encodeModel, tensorInfo } from './support/onnx-reflection.ts';
import { decodeModel } from '../src/onnx/stream-decode.ts';
import {
  fieldsOf,
  int64BigOf,
  int64Of,
  MAX_VARINT_BYTES,
  readFieldHeader,
  readRepeatedVarints,
  readVarint,
  readVarintExact,
  uint64BigOf,
  uint64Of,
  varintEnd,
  WireFormatError,
  WireType,
  writeVarint,
  type FieldAt,
} from '../src/onnx/wire.ts';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** protobufjs' encoding of a varint: int64 for negative values, uint64 otherwise. */
function reference(value: bigint): Uint8Array {
  const writer = protobuf.Writer.create();
  if (value < 0n) writer.int64(value.toString());
  else writer.uint64(value.toString());
  return writer.finish();
}

function written(value: number | bigint): Uint8Array {
  const out = new Uint8Array(MAX_VARINT_BYTES);
  return out.subarray(0, writeVarint(out, 0, value));
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** A small seeded PRNG (mulberry32): the same values on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('varints of every length 1..10: written as protobufjs writes them, read back exactly', () => {
  const random = prng(1);
  for (let length = 1; length <= 10; length++) {
    const smallest = length === 1 ? 0n : 2n ** BigInt(7 * (length - 1));
    const largest = length === 10 ? UINT64_MAX : 2n ** BigInt(7 * length) - 1n;
    const between = smallest + BigInt(Math.floor(random() * 2 ** 32)) * ((largest - smallest) / 2n ** 32n);
    for (const value of [smallest, largest, between]) {
      const bytes = written(value);
      assert.equal(hex(bytes), hex(reference(value)), `${value}`);
      assert.equal(bytes.length, length, `${value} takes ${length} bytes`);
      assert.equal(varintEnd(bytes, 0, 0), length);
      assert.equal(uint64BigOf(bytes, 0, length), value);
      assert.equal(uint64Of(bytes, 0, length), Number(value), 'the nearest double above 2^53');
      assert.equal(int64BigOf(bytes, 0, length), BigInt.asIntN(64, value));
      if (value <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(hex(written(Number(value))), hex(bytes));
    }
  }
});

test('negative int64 values are 10-byte two’s complement, read back exactly', () => {
  for (const value of [-1n, -(2n ** 31n), INT64_MIN, -2n, -(2n ** 53n) - 1n]) {
    const bytes = written(value);
    assert.equal(bytes.length, 10, `${value}`);
    assert.equal(hex(bytes), hex(reference(value)), `${value}`);
    assert.equal(int64BigOf(bytes, 0, 10), value);
    assert.equal(int64Of(bytes, 0, 10), Number(value));
    assert.equal(uint64BigOf(bytes, 0, 10), BigInt.asUintN(64, value));
  }
  assert.equal(hex(written(-1)), 'ffffffffffffffffff01', 'a negative number is an int64 too');
  assert.equal(hex(written(-(2 ** 31))), hex(reference(-(2n ** 31n))));
  // protobufjs writes a negative int32 (an enum value, an attribute's type) sign-extended to 10 bytes.
  const int32 = protobuf.Writer.create().int32(-5).finish();
  assert.equal(int64Of(int32, 0, varintEnd(int32, 0, 0)), -5);
});

test('2^35, 2^53 + 1 and INT64_MAX: exact as bigints, the nearest double as numbers', () => {
  const cases: [bigint, number][] = [
    [2n ** 35n, 6],
    [2n ** 53n + 1n, 8],
    [INT64_MAX, 9],
  ];
  for (const [value, length] of cases) {
    const bytes = written(value);
    assert.equal(bytes.length, length, `${value}`);
    assert.equal(hex(bytes), hex(reference(value)));
    assert.equal(int64BigOf(bytes, 0, length), value);
    assert.equal(uint64BigOf(bytes, 0, length), value);
    assert.equal(int64Of(bytes, 0, length), Number(value));
  }
  assert.equal(int64Of(written(2 ** 35), 0, 6), 2 ** 35);
});

test('writeVarint refuses what is not a 64-bit integer', () => {
  const out = new Uint8Array(16);
  assert.throws(() => writeVarint(out, 0, 2n ** 64n), RangeError);
  assert.throws(() => writeVarint(out, 0, INT64_MIN - 1n), RangeError);
  assert.throws(() => writeVarint(out, 0, 1.5), RangeError);
  assert.throws(() => writeVarint(out, 0, Number.NaN), RangeError);
  assert.equal(writeVarint(out, 3, 300), 5, 'returns where the varint ends');
  assert.equal(hex(out.subarray(3, 5)), 'ac02');
});

test('a varint longer than 10 bytes, or cut short, is a WireFormatError naming its byte', () => {
  const eleven = new Uint8Array([...Array<number>(10).fill(0x80), 0x01]);
  assert.throws(
    () => varintEnd(eleven, 0, 100),
    (e: unknown) =>
      e instanceof WireFormatError && /malformed varint at byte 100: longer than 10/.test(e.message),
  );
  const cut = new Uint8Array([0x80, 0x80, 0x80]);
  assert.throws(
    () => varintEnd(cut, 1, 100),
    (e: unknown) =>
      e instanceof WireFormatError && /malformed varint at byte 101: cut short at byte 103/.test(e.message),
  );
  // Ten bytes, padded (not the shortest form): still a varint, of value 1.
  const padded = new Uint8Array([0x81, ...Array<number>(8).fill(0x80), 0x00]);
  assert.equal(varintEnd(padded, 0, 0), 10);
  assert.equal(uint64Of(padded, 0, 10), 1);

  // In a message: an 11-byte value, a cut value, a cut tag, a cut length.
  const message = (...bytes: number[]): MemorySource => new MemorySource(new Uint8Array(bytes));
  const fields = (source: MemorySource): FieldAt[] => fieldsOf(source, 0, source.size);
  assert.throws(() => fields(message(0x08, ...eleven)), /malformed varint at byte 1: longer than 10 bytes/);
  assert.throws(() => fields(message(0x08, 0xff)), /malformed varint at byte 1: cut short at byte 2/);
  assert.throws(
    () => fields(message(0x0a, 0x01, 0x00, 0x88)),
    /malformed field header at byte 3: tag cut short/,
  );
  assert.throws(() => fields(message(0x0a, 0x81)), /malformed field header at byte 0: length cut short/);
  assert.throws(() => fields(message(0x0a, ...eleven)), /malformed field header at byte 0: length longer/);
  // A tag over 32 bits would lose its wire type to rounding.
  assert.throws(() => fields(message(...written(2n ** 40n + 2n), 0)), /tag \d+ is over 32 bits/);
  // A cut message only shows where the cut falls inside the window the header is read from.
  assert.throws(() => fieldsOf(message(0x08, 0x96, 0x01), 0, 2), /cut short at byte 2/);
});

test('field headers of every wire type ONNX uses; groups and unknown wire types refused', () => {
  const header = (...bytes: number[]) => readFieldHeader(new Uint8Array(bytes), 40);
  assert.deepEqual(header(0x08, 0x96, 0x01), { id: 1, wireType: 0, headerLength: 1, valueLength: 2 });
  assert.deepEqual(header(0x11, 0, 0, 0, 0, 0, 0, 0, 0), {
    id: 2,
    wireType: 1,
    headerLength: 1,
    valueLength: 8,
  });
  assert.deepEqual(header(0x1a, 0x03, 1, 2, 3), { id: 3, wireType: 2, headerLength: 2, valueLength: 3 });
  assert.deepEqual(header(0x25, 0, 0, 0, 0), { id: 4, wireType: 5, headerLength: 1, valueLength: 4 });
  // A length past 2^53 is read (roughly); the caller finds it runs past its message.
  assert.equal(header(0x1a, ...written(UINT64_MAX)).valueLength, 2 ** 64);
  // Field 2^29 - 1, the largest there is.
  assert.equal(header(...written((2 ** 29 - 1) * 8 + 2), 0).id, 2 ** 29 - 1);
  for (const wireType of [3, 4]) {
    assert.throws(
      () => header(0x08 | wireType),
      (e: unknown) =>
        e instanceof WireFormatError &&
        e.message === `unsupported wire type ${wireType} (a group, which ONNX does not use) at byte 40`,
    );
  }
  assert.throws(() => header(0x0e), /unsupported wire type 6 at byte 40/);
  assert.throws(() => header(0x0f), /unsupported wire type 7 at byte 40/);
  assert.throws(() => header(0x02, 0x00), /field number 0 at byte 40/);
});

test('fieldsOf: fixed32, fixed64, packed and unpacked repeated fields, where each lies and what it holds', () => {
  const values = [-1n, 0n, 2n ** 35n, INT64_MAX, INT64_MIN, 300n];
  const writer = protobuf.Writer.create();
  writer.uint32((1 << 3) | 5).float(1.5);
  writer.uint32((2 << 3) | 1).double(-2.25);
  writer.uint32((3 << 3) | 2).fork();
  for (const v of values) writer.int64(v.toString());
  writer.ldelim();
  for (const v of values) writer.uint32((4 << 3) | 0).int64(v.toString());
  writer.uint32((5 << 3) | 2).string('name');
  writer.uint32((6 << 3) | 0).uint64(UINT64_MAX.toString());
  writer.uint32((7 << 3) | 5).fixed32(0xdeadbeef);
  writer.uint32((8 << 3) | 1).sfixed64('-3');
  const bytes = writer.finish();
  const source = new MemorySource(bytes);
  const fields = fieldsOf(source, 0, bytes.length);
  assert.deepEqual(
    fields.map((f) => [f.id, f.wireType]),
    [[1, 5], [2, 1], [3, 2], ...values.map(() => [4, 0]), [5, 2], [6, 0], [7, 5], [8, 1]],
  );
  for (let i = 1; i < fields.length; i++) assert.equal(fields[i]!.start, fields[i - 1]!.end, 'contiguous');
  assert.equal(fields.at(-1)!.end, bytes.length);
  const view = (f: FieldAt): DataView =>
    new DataView(bytes.buffer, bytes.byteOffset + f.valueStart, f.end - f.valueStart);
  assert.equal(view(fields[0]!).getFloat32(0, true), 1.5);
  assert.equal(view(fields[1]!).getFloat64(0, true), -2.25);
  assert.deepEqual(readRepeatedVarints(source, fields[2]!), values, 'packed');
  assert.deepEqual(
    fields.filter((f) => f.id === 4).flatMap((f) => readRepeatedVarints(source, f)),
    values,
    'unpacked',
  );
  assert.deepEqual(
    readRepeatedVarints(source, fields[2]!, 'uint64'),
    values.map((v) => BigInt.asUintN(64, v)),
  );
  const name = fields.find((f) => f.id === 5)!;
  assert.equal(Buffer.from(bytes.subarray(name.valueStart, name.end)).toString(), 'name');
  const huge = fields.find((f) => f.id === 6)!;
  assert.equal(readVarintExact(source, huge, 'uint64'), UINT64_MAX);
  assert.equal(readVarintExact(source, huge), -1n);
  assert.equal(readVarint(source, huge), -1);
  assert.equal(view(fields.find((f) => f.id === 7)!).getUint32(0, true), 0xdeadbeef);
  assert.equal(view(fields.find((f) => f.id === 8)!).getBigInt64(0, true), -3n);
  const unpacked = fields.filter((f) => f.id === 4);
  assert.deepEqual(
    unpacked.map((f) => readVarint(source, f)),
    values.map((v) => Number(v)),
  );
  assert.throws(() => readVarint(source, fields[0]!), /wire type 5, not a varint/);
  // A field that runs past its message.
  assert.throws(
    () => fieldsOf(source, 0, fields[2]!.end - 1),
    /field 3 at byte \d+ runs past the end of its message/,
  );
  assert.throws(
    () => fieldsOf(source, 0, fields[1]!.end - 1),
    /field 2 at byte \d+ runs past the end of its message/,
  );
  const truncatedPacked = new MemorySource(new Uint8Array([0x1a, 0x02, 0x96, 0x81]));
  assert.throws(
    () => readRepeatedVarints(truncatedPacked, fieldsOf(truncatedPacked, 0, 4)[0]!),
    /cut short at byte 4/,
  );
});

test('the streaming decoder reads field headers through the same layer: negative and huge int64s, errors', () => {
  const model = encodeModel({
    node: [
      {
        op_type: 'Softmax',
        input: ['x'],
        output: ['y'],
        attribute: [
          { name: 'axis', type: 2, i: -1 },
          { name: 'ends', type: 7, ints: [INT64_MAX.toString(), INT64_MIN.toString(), '-1'] },
        ],
      },
    ],
    input: [tensorInfo('x', 1, [2, 3])],
    output: [tensorInfo('y', 1, [2, 3])],
  });
  const decoded = decodeModel(new MemorySource(model)) as {
    graph: { node: { attribute: { i?: string; ints?: string[] }[] }[] };
  };
  const [axis, ends] = decoded.graph.node[0]!.attribute;
  assert.equal(axis!.i, '-1');
  assert.deepEqual(ends!.ints, [INT64_MAX.toString(), INT64_MIN.toString(), '-1']);

  // The model's ir_version written with an 11-byte varint: refused by both.
  const eleven = new Uint8Array([0x08, ...Array<number>(10).fill(0x88), 0x00]);
  for (const read of [
    () => decodeModel(new MemorySource(eleven)),
    () => fieldsOf(new MemorySource(eleven), 0, eleven.length),
  ])
    assert.throws(
      read,
      (e: unknown) => e instanceof WireFormatError && /malformed varint at byte 1/.test(e.message),
    );
  // A length past the end: the decoder names the field.
  const long = new Uint8Array([0x3a, 0x05, 0x0a, 0x00]);
  assert.throws(
    () => decodeModel(new MemorySource(long)),
    /ModelProto.graph at byte 0 is 5 bytes long, past the end of its message \(byte 4\)/,
  );
  assert.throws(
    () => decodeModel(new MemorySource(new Uint8Array([0x09, 1, 2]))),
    /runs past the end of its message/,
  );
  assert.throws(() => decodeModel(new MemorySource(new Uint8Array([0x0b]))), /unsupported wire type 3/);
  // A padded header (a length in two bytes where one would do) is found where it is.
  const padded = new Uint8Array([0x12, 0x83, 0x00, 0x61, 0x62, 0x63, 0x08, 0x07]);
  assert.deepEqual(decodeModel(new MemorySource(padded)), { producer_name: 'abc', ir_version: '7' });
});

test('a negative value in a varint field between others does not shift the fields after it', () => {
  const writer = protobuf.Writer.create();
  writer.uint32((20 << 3) | 0).int32(-1);
  writer.uint32((1 << 3) | 2).string('after');
  const bytes = writer.finish();
  const fields = fieldsOf(new MemorySource(bytes), 0, bytes.length);
  assert.deepEqual(
    fields.map((f) => [f.id, f.wireType, f.start, f.valueStart, f.end]),
    [
      [20, WireType.VARINT, 0, 2, 12],
      [1, WireType.LENGTH_DELIMITED, 12, 14, 19],
    ],
  );
});
