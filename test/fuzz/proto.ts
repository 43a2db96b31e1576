// Protobuf at the wire level, for building and breaking ONNX files: a message is a list of fields, each a
// varint, a fixed 32/64-bit value, raw bytes or a nested message, and a field may lie about its tag or its
// length. Encoding is iterative, so a model nested 10,000 graphs deep costs no recursion here.
import protobuf from 'protobufjs';
import { onnxRoot } from '../support/onnx-reflection.ts';

export type Field =
  | { id: number; wire: 0; value: bigint; tag?: number }
  | { id: number; wire: 1; value: bigint; tag?: number }
  | { id: number; wire: 5; value: number; tag?: number }
  | { id: number; wire: 2; bytes: Uint8Array; tag?: number; length?: number }
  | { id: number; wire: 2; msg: Message; tag?: number; length?: number };
export type Message = Field[];

const U64 = (1n << 64n) - 1n;
const utf8 = new TextEncoder();

// Field constructors: `int(1, 8)` is field 1 = 8; negative numbers are written as int64 (10 bytes).
export const int = (id: number, value: number | bigint): Field => ({ id, wire: 0, value: BigInt(value) });
export const str = (id: number, value: string): Field => ({ id, wire: 2, bytes: utf8.encode(value) });
export const bytes = (id: number, value: Uint8Array): Field => ({ id, wire: 2, bytes: value });
export const msg = (id: number, fields: Message): Field => ({ id, wire: 2, msg: fields });
export const f32 = (id: number, value: number): Field => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, value, true);
  return { id, wire: 5, value: b.getUint32(0, true) };
};

function varintLength(value: bigint): number {
  if (value >= 0n && value <= 0xffffffffn) return smallVarintLength(Number(value));
  let v = value & U64;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function smallVarintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

const tagOf = (f: Field): number => f.tag ?? f.id * 8 + f.wire;

function contentLength(f: Field, sizes: Map<Message, number>): number {
  if (f.wire !== 2) return 0;
  return 'msg' in f ? sizes.get(f.msg)! : f.bytes.length;
}

function fieldSize(f: Field, sizes: Map<Message, number>): number {
  const tag = smallVarintLength(tagOf(f));
  switch (f.wire) {
    case 0:
      return tag + varintLength(f.value);
    case 1:
      return tag + 8;
    case 5:
      return tag + 4;
    case 2: {
      const content = contentLength(f, sizes);
      return tag + smallVarintLength(f.length ?? content) + content;
    }
  }
}

/** Encoded size of every message in the tree (post-order, with an explicit stack). */
function measure(root: Message): Map<Message, number> {
  const sizes = new Map<Message, number>();
  const stack: [Message, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [m, children] = stack.pop()!;
    if (children) {
      let total = 0;
      for (const f of m) total += fieldSize(f, sizes);
      sizes.set(m, total);
      continue;
    }
    if (sizes.has(m)) continue;
    stack.push([m, true]);
    for (const f of m) if (f.wire === 2 && 'msg' in f && !sizes.has(f.msg)) stack.push([f.msg, false]);
  }
  return sizes;
}

function writeVarint(out: Uint8Array, pos: number, value: bigint | number): number {
  if (typeof value === 'bigint' && value >= 0n && value <= 0xffffffffn) value = Number(value);
  if (typeof value === 'number' && value >= 0 && value <= 0xffffffff) {
    while (value >= 0x80) {
      out[pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    out[pos] = value;
    return pos + 1;
  }
  let v = BigInt(value) & U64;
  while (v >= 0x80n) {
    out[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[pos++] = Number(v);
  return pos;
}

export function encode(root: Message): Uint8Array {
  const sizes = measure(root);
  const out = new Uint8Array(sizes.get(root)!);
  let pos = 0;
  const stack: [Message, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const f = top[0][top[1]++];
    if (f === undefined) {
      stack.pop();
      continue;
    }
    pos = writeVarint(out, pos, tagOf(f));
    switch (f.wire) {
      case 0:
        pos = writeVarint(out, pos, f.value);
        break;
      case 1:
        new DataView(out.buffer).setBigUint64(pos, f.value & U64, true);
        pos += 8;
        break;
      case 5:
        new DataView(out.buffer).setUint32(pos, f.value >>> 0, true);
        pos += 4;
        break;
      case 2: {
        const content = contentLength(f, sizes);
        pos = writeVarint(out, pos, f.length ?? content);
        if ('msg' in f) stack.push([f.msg, 0]);
        else {
          out.set(f.bytes, pos);
          pos += f.bytes.length;
        }
      }
    }
  }
  return out;
}

export interface Located {
  parent: Message;
  index: number;
  /** The protobuf type of the parent message, when known. */
  type: protobuf.Type | undefined;
  field: Field;
  depth: number;
}

/** Every field of the tree with its parent (pre-order). */
export function fields(root: Message, rootType = 'onnx.ModelProto'): Located[] {
  const out: Located[] = [];
  const stack: [Message, protobuf.Type | undefined, number][] = [[root, onnxRoot().lookupType(rootType), 0]];
  while (stack.length > 0) {
    const [m, type, depth] = stack.pop()!;
    m.forEach((field, index) => {
      out.push({ parent: m, index, type, field, depth });
      if (field.wire === 2 && 'msg' in field) {
        const child = type?.fieldsById[field.id]?.resolvedType;
        stack.push([field.msg, child instanceof protobuf.Type ? child : undefined, depth + 1]);
      }
    });
  }
  return out;
}

/** Parses bytes into a tree, using onnx.proto to tell nested messages from strings and packed numbers. */
export function parse(data: Uint8Array, typeName = 'onnx.ModelProto'): Message {
  const parsed = tryParse(data, 0, data.length, onnxRoot().lookupType(typeName), 0);
  if (!parsed) throw new Error('not a well-formed protobuf message');
  return parsed;
}

function tryParse(
  data: Uint8Array,
  start: number,
  end: number,
  type: protobuf.Type | undefined,
  depth: number,
): Message | undefined {
  if (depth > 100) return undefined;
  const out: Message = [];
  const reader = protobuf.Reader.create(data.subarray(start, end));
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const id = tag >>> 3;
      const wire = tag & 7;
      if (id === 0) return undefined;
      if (wire === 0) out.push({ id, wire, value: BigInt(reader.uint64().toString()) });
      else if (wire === 1) {
        const value = reader.fixed64();
        out.push({ id, wire, value: BigInt(value.toString()) & U64 });
      } else if (wire === 5) out.push({ id, wire, value: reader.fixed32() });
      else if (wire === 2) {
        const length = reader.uint32();
        const from = start + reader.pos;
        if (reader.pos + length > reader.len) return undefined;
        reader.skip(length);
        const child = type?.fieldsById[id]?.resolvedType;
        const nested =
          child instanceof protobuf.Type ? tryParse(data, from, from + length, child, depth + 1) : undefined;
        if (nested) out.push({ id, wire, msg: nested });
        else out.push({ id, wire, bytes: data.slice(from, from + length) });
      } else return undefined;
    }
  } catch {
    return undefined;
  }
  return out;
}

/** A deep copy, so that mutations of one input leave the seed intact (iterative: trees can be deep). */
export function clone(root: Message): Message {
  const copies = new Map<Message, Message>();
  const out: Message = [];
  copies.set(root, out);
  const stack: [Message, Message][] = [[root, out]];
  while (stack.length > 0) {
    const [from, into] = stack.pop()!;
    for (const f of from) {
      if (f.wire === 2 && 'msg' in f) {
        let copy = copies.get(f.msg);
        if (!copy) {
          copy = [];
          copies.set(f.msg, copy);
          stack.push([f.msg, copy]);
        }
        into.push({ ...f, msg: copy });
      } else into.push({ ...f });
    }
  }
  return out;
}
