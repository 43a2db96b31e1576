// A structured mutator: it parses valid ONNX seeds into protobuf field trees (proto.ts) and breaks them
// the ways a hostile or damaged file can be broken: truncated anywhere, wrong wire types, lengths past the
// end, absurd dims and counts, hostile and huge strings, duplicated and dropped fields, wrong attribute
// types, cycles, deep nesting, external data pointing anywhere, garbage manifests, long repeated fields,
// then a few random bytes. Everything is drawn from a seeded generator: (seed, index) → the same bytes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import * as gen from './onnx-gen.ts';
import { bytes, clone, encode, fields, int, msg, parse, str, type Field, type Message } from './proto.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** sfc32 seeded through splitmix32: small, fast and good enough to pick mutations. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  constructor(...seeds: number[]) {
    // A hash chain over the seeds: (2, 1) and (3, 0) must not start the same stream.
    const hash = (x: number): number => {
      x = Math.imul((x ^ (x >>> 16)) >>> 0, 0x7feb352d);
      x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
      return (x ^ (x >>> 16)) >>> 0;
    };
    let h = 0x2545f491;
    for (const s of seeds) h = hash(h ^ hash((s >>> 0) ^ hash(Math.floor(s / 2 ** 32) + 0x9e3779b9)));
    this.a = hash(h ^ 1);
    this.b = hash(h ^ 2);
    this.c = hash(h ^ 3);
    for (let i = 0; i < 12; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export interface Seed {
  name: string;
  bytes: Uint8Array;
  tree: Message;
}

/** The valid models mutations start from: every committed fixture and example, and a few built here. */
export function loadSeeds(): Seed[] {
  const files: string[] = [];
  for (const dir of ['test/fixtures', 'test/fixtures/trace', 'examples']) {
    for (const f of readdirSync(path.join(ROOT, dir)).sort())
      if (f.endsWith('.onnx')) files.push(path.join(dir, f));
  }
  const seeds: Seed[] = files.map((f) => {
    const data = new Uint8Array(readFileSync(path.join(ROOT, f)));
    return { name: f, bytes: data, tree: parse(data) };
  });
  const built: [string, Message][] = [
    ['chain-8', gen.chainModel(8)],
    ['chain-shared', gen.chainModel(9, { shareEvery: 3 })],
    ['nested-if-3', gen.nestedIfModel(3)],
    ['cycle-3', gen.cycleModel(3)],
    ['wide-8', gen.wideNodeModel(8)],
  ];
  for (const [name, tree] of built) seeds.push({ name: `built:${name}`, bytes: encode(tree), tree });
  return seeds;
}

// What hostile values look like.
const EXTREME_VARINTS: bigint[] = [
  0n,
  1n,
  -1n,
  -(2n ** 31n),
  2n ** 31n - 1n,
  2n ** 32n,
  2n ** 32n + 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 64n - 1n,
];
const HOSTILE_STRINGS = [
  '',
  '<script>alert(1)</script>',
  '<!-- paramtrace:comment-key=fuzz -->',
  '<!--',
  '-->',
  '| a | b |\n|---|---|',
  '`code` ``` fence',
  '@octocat please look',
  '[click](javascript:alert(1))',
  '![x](https://example.invalid/x.png)',
  'https://example.invalid/x www.example.invalid',
  'line\nbreak\r\nand\u2028sep',
  'zero\u200bwidth\u200d\ufeff',
  'bidi\u202eevil\u202c \u2066iso\u2069',
  '../../etc/passwd',
  '/etc/passwd',
  'nul\u0000byte',
  '\ud800 lone surrogate',
  "' OR 1=1 --",
  '%s%n%x',
  '${process.exit()}',
  '__proto__',
  'constructor',
  'onnx::MatMul_1',
  '/layer1/layer1.0/conv1/Conv',
  "['a', 'b']",
  'x'.repeat(5000),
];
const MANIFEST_KEY = 'paramtrace.manifest';

type Mutation = (tree: Message, rng: Rng, seeds: Seed[]) => string;

/**
 * How big the big mutations get. `npm test` runs the light sizes (its fixed hostile cases in corpus.ts
 * cover the largest shapes once each); `npm run fuzz` the heavy ones.
 */
const SIZES = {
  light: {
    strings: [300, 5000, 70_000],
    dims: [1000, 20_000],
    nesting: [20, 70, 300],
    typeNesting: [50, 500],
    repeated: [2000, 10_000],
    nodes: 5000,
    folds: [200, 2000],
  },
  heavy: {
    strings: [300, 5000, 70_000, 1_100_000],
    dims: [1000, 150_000],
    nesting: [20, 70, 300, 3000],
    typeNesting: [50, 500, 5000],
    repeated: [10_000, 150_000],
    nodes: 50_000,
    folds: [2000, 20_000],
  },
};
let size = SIZES.heavy;

/** Messages of one type in the tree (typeName as in onnx.proto, e.g. 'onnx.TensorProto'). */
function messagesOf(tree: Message, typeName: string): Message[] {
  const out: Message[] = [];
  if (typeName === 'onnx.ModelProto') out.push(tree);
  for (const l of fields(tree)) {
    if (l.field.wire !== 2 || !('msg' in l.field)) continue;
    const child = l.type?.fieldsById[l.field.id]?.resolvedType;
    if (child instanceof protobuf.Type && child.fullName === `.${typeName}`) out.push(l.field.msg);
  }
  return out;
}

function stringFields(tree: Message): { parent: Message; index: number }[] {
  return fields(tree)
    .filter((l) => {
      const f = l.type?.fieldsById[l.field.id];
      return l.field.wire === 2 && f !== undefined && (f.type === 'string' || f.type === 'bytes');
    })
    .map((l) => ({ parent: l.parent, index: l.index }));
}

const utf8 = new TextEncoder();

function hostileString(rng: Rng): string {
  if (rng.chance(0.15)) {
    const unit = rng.pick(['a', '<', '|', '@', '\u202e', '`', '\n', 'é', '/x']);
    return unit.repeat(rng.pick(size.strings));
  }
  return rng.pick(HOSTILE_STRINGS);
}

const MUTATIONS: Record<string, Mutation> = {
  drop(tree, rng) {
    const all = fields(tree);
    const l = rng.pick(all);
    l.parent.splice(l.index, 1);
    return `drop field ${l.field.id} at depth ${l.depth}`;
  },
  duplicate(tree, rng) {
    const l = rng.pick(fields(tree));
    const copy = clone([l.field])[0]!;
    if (rng.chance(0.5)) l.parent.splice(l.index + 1, 0, copy);
    else l.parent.push(copy);
    return `duplicate field ${l.field.id}`;
  },
  wrongWire(tree, rng) {
    const l = rng.pick(fields(tree));
    const wire = rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== l.field.wire));
    l.field.tag = l.field.id * 8 + wire;
    return `field ${l.field.id} with wire type ${wire}`;
  },
  fieldNumber(tree, rng) {
    const l = rng.pick(fields(tree));
    const id = rng.pick([0, 15, 16, 2047, 2 ** 29 - 1, l.field.id + 1]);
    l.field.tag = id * 8 + l.field.wire;
    return `field ${l.field.id} renumbered ${id}`;
  },
  lengthLie(tree, rng) {
    const delimited = fields(tree).filter((l) => l.field.wire === 2);
    if (delimited.length === 0) return 'no length to lie about';
    const f = rng.pick(delimited).field as Extract<Field, { wire: 2 }>;
    const actual = 'msg' in f ? encode(f.msg).length : f.bytes.length;
    const lie = rng.pick([
      actual + 1,
      actual + 2,
      actual + 1000,
      2 ** 31 - 1,
      2 ** 32 - 1,
      Math.max(0, actual - 1),
      0,
    ]);
    f.length = lie;
    return `length ${actual} declared as ${lie}`;
  },
  extremeVarint(tree, rng) {
    const varints = fields(tree).filter((l) => l.field.wire === 0);
    if (varints.length === 0) return 'no varint';
    const f = rng.pick(varints).field as Extract<Field, { wire: 0 }>;
    f.value = rng.pick(EXTREME_VARINTS);
    return `varint field ${f.id} = ${f.value}`;
  },
  absurdDims(tree, rng) {
    const tensors = [...messagesOf(tree, 'onnx.TensorProto'), ...messagesOf(tree, 'onnx.SparseTensorProto')];
    if (tensors.length === 0) return 'no tensor';
    const t = rng.pick(tensors);
    const dims = rng.pick<bigint[]>([
      [-1n],
      [0n],
      [-(2n ** 63n)],
      [2n ** 40n, 2n ** 40n],
      [2n ** 53n],
      [2n ** 26n, 2n ** 26n],
      [2n ** 31n, 2n ** 31n, 2n ** 31n],
      Array.from({ length: 65 }, () => 1n),
      Array.from({ length: rng.pick(size.dims) }, () => 1n),
      [3n, 0n, 2n ** 62n],
      [2n ** 64n - 1n],
    ]);
    const dimsId = messagesOf(tree, 'onnx.SparseTensorProto').includes(t) ? 3 : 1;
    const rest = t.filter((f) => f.id !== dimsId);
    t.length = 0;
    for (const d of dims) t.push(int(dimsId, d));
    for (const f of rest) t.push(f);
    return `dims [${dims.length > 4 ? `${dims.length} dims` : dims.join(', ')}]`;
  },
  absurdShape(tree, rng) {
    const dims = messagesOf(tree, 'onnx.TensorShapeProto.Dimension');
    if (dims.length === 0) return 'no shape';
    const d = rng.pick(dims);
    d.length = 0;
    if (rng.chance(0.5)) d.push(int(1, rng.pick(EXTREME_VARINTS)));
    else d.push(str(2, hostileString(rng)));
    return 'value_info dimension';
  },
  hostileString(tree, rng) {
    const all = stringFields(tree);
    if (all.length === 0) return 'no string';
    const at = rng.pick(all);
    const s = hostileString(rng);
    at.parent[at.index] = { id: at.parent[at.index]!.id, wire: 2, bytes: utf8.encode(s) };
    return `string field ${at.parent[at.index]!.id} = ${JSON.stringify(s.slice(0, 30))}${s.length > 30 ? `… (${s.length})` : ''}`;
  },
  invalidUtf8(tree, rng) {
    const all = stringFields(tree);
    if (all.length === 0) return 'no string';
    const at = rng.pick(all);
    at.parent[at.index] = {
      id: at.parent[at.index]!.id,
      wire: 2,
      bytes: new Uint8Array([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
    };
    return 'invalid UTF-8';
  },
  attributeType(tree, rng) {
    const attributes = messagesOf(tree, 'onnx.AttributeProto');
    if (attributes.length === 0) return 'no attribute';
    const a = rng.pick(attributes);
    const choice = rng.int(3);
    if (choice === 0) {
      const type = rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 99, -1]);
      const at = a.findIndex((f) => f.id === 20);
      if (at >= 0) a.splice(at, 1);
      a.push(int(20, type));
      return `attribute type ${type}`;
    }
    if (choice === 1) {
      // Keep the declared type, take the value away (or put a different one in).
      for (let i = a.length - 1; i >= 0; i--) if (![1, 20].includes(a[i]!.id)) a.splice(i, 1);
      const value = rng.pick<Field[]>([
        [],
        [int(3, 7)],
        [str(4, 'text')],
        [msg(5, gen.tensor({ name: 'wrong', dims: [2] }))],
        [msg(6, [])],
        [msg(11, gen.graph({ nodes: [] })), msg(11, [])],
        [bytes(8, new Uint8Array([0xff, 0xff]))],
      ]);
      a.push(...value);
      return `attribute value fields ${value.map((f) => f.id).join(',') || 'none'}`;
    }
    a.push(msg(6, gen.graph({ nodes: [gen.node({ op: 'Relu', inputs: ['x'], outputs: ['x'] })] })));
    return 'attribute with an extra graph';
  },
  rewire(tree, rng) {
    const nodes = messagesOf(tree, 'onnx.NodeProto');
    if (nodes.length === 0) return 'no node';
    const target = rng.pick(nodes);
    const outputs = nodes.flatMap((n) => n.filter((f) => f.id === 2));
    const source = outputs.length > 0 ? rng.pick(outputs) : undefined;
    if (!source || !('bytes' in source)) return 'no output';
    const inputAt = target.findIndex((f) => f.id === 1);
    const copy = { ...source, id: 1 };
    if (inputAt >= 0) target[inputAt] = copy;
    else target.unshift(copy);
    return 'node input rewired to another node output (may form a cycle)';
  },
  deepNest(tree, rng) {
    const graphs = messagesOf(tree, 'onnx.GraphProto');
    if (graphs.length === 0) return 'no graph';
    const depth = rng.pick(size.nesting);
    const nested = gen.nestedIfModel(depth);
    const nestedGraph = nested.find((f) => f.id === 7) as Extract<Field, { msg: Message }>;
    rng.pick(graphs).push(...nestedGraph.msg.filter((f) => f.id === 1));
    return `If nested ${depth} deep`;
  },
  deepType(tree, rng) {
    const graphs = messagesOf(tree, 'onnx.GraphProto');
    if (graphs.length === 0) return 'no graph';
    const depth = rng.pick(size.typeNesting);
    const m = gen.nestedTypeModel(depth);
    const g = (m.find((f) => f.id === 7) as Extract<Field, { msg: Message }>).msg;
    rng.pick(graphs).push(...g.filter((f) => f.id === 11));
    return `sequence type nested ${depth} deep`;
  },
  splice(tree, rng, seeds) {
    const donor = fields(rng.pick(seeds).tree).filter((l) => l.field.wire === 2 && 'msg' in l.field);
    const into = fields(tree).filter((l) => l.field.wire === 2 && 'msg' in l.field);
    if (donor.length === 0 || into.length === 0) return 'nothing to splice';
    const from = rng.pick(donor);
    const target = rng.pick(into).field as Extract<Field, { msg: Message }>;
    target.msg.push(clone([from.field])[0]!);
    return `spliced field ${from.field.id} from another model`;
  },
  dataType(tree, rng) {
    const tensors = messagesOf(tree, 'onnx.TensorProto');
    if (tensors.length === 0) return 'no tensor';
    const t = rng.pick(tensors);
    const type = rng.pick([0, 2, 3, 6, 7, 8, 9, 10, 11, 14, 15, 16, 21, 22, 23, 24, 99, -1]);
    const at = t.findIndex((f) => f.id === 2);
    if (at >= 0) t.splice(at, 1);
    t.push(int(2, type));
    return `data_type ${type}`;
  },
  payload(tree, rng) {
    const tensors = messagesOf(tree, 'onnx.TensorProto');
    if (tensors.length === 0) return 'no tensor';
    const t = rng.pick(tensors);
    const at = t.findIndex((f) => f.id === 9 || f.id === 4 || f.id === 5 || f.id === 7 || f.id === 10);
    if (at < 0) return 'no payload';
    const field = t[at]!;
    const data = field.wire === 2 && 'bytes' in field ? field.bytes : new Uint8Array(0);
    const choice = rng.int(4);
    if (choice === 0) {
      const cut = rng.int(data.length + 1);
      t[at] = bytes(field.id, data.subarray(0, cut));
      return `payload cut to ${cut} of ${data.length} bytes`;
    }
    if (choice === 1) {
      const more = rng.pick([1, 3, 4, 1000]);
      const grown = new Uint8Array(data.length + more).fill(0x80);
      grown.set(data);
      t[at] = bytes(field.id, grown);
      return `payload grown by ${more} bytes of 0x80`;
    }
    if (choice === 2) {
      const id = rng.pick([4, 5, 6, 7, 10, 11]);
      t[at] = { ...(field as Extract<Field, { wire: 2 }>), id, tag: undefined };
      return `payload moved to field ${id}`;
    }
    t.push(bytes(rng.pick([4, 5, 7, 9]), data));
    return 'payload in two fields';
  },
  external(tree, rng) {
    const tensors = messagesOf(tree, 'onnx.TensorProto');
    if (tensors.length === 0) return 'no tensor';
    const t = rng.pick(tensors);
    for (let i = t.length - 1; i >= 0; i--) if ([9, 4, 5, 7, 10, 13, 14].includes(t[i]!.id)) t.splice(i, 1);
    const location = rng.pick([
      'external-data.weights',
      'outside-link.weights',
      '../external-data.weights',
      '/etc/passwd',
      'C:\\weights',
      'sub/../external-data.weights',
      '',
      '.',
      'nul\u0000.weights',
      'x'.repeat(5000),
      'missing.weights',
    ]);
    const entries: [string, string][] = [['location', location]];
    if (rng.chance(0.7)) entries.push(['offset', rng.pick(['0', '4', '-1', '1e3', '9007199254740993', 'x'])]);
    if (rng.chance(0.7)) entries.push(['length', rng.pick(['0', '16', '-4', '99999999999', 'NaN'])]);
    if (rng.chance(0.2)) entries.reverse();
    t.push(int(14, rng.chance(0.9) ? 1 : rng.pick([2, -1])));
    for (const [k, v] of entries) t.push(msg(13, [str(1, k), str(2, v)]));
    return `external data ${JSON.stringify(entries).slice(0, 80)}`;
  },
  manifest(tree, rng, seeds) {
    const withManifest = seeds.find((s) => s.name === 'examples/head.onnx');
    const valid = withManifest ? manifestText(withManifest.tree) : undefined;
    let text: string;
    const choice = rng.int(5);
    if (choice === 0 || !valid)
      text = rng.pick(['', '{', 'null', '[]', '{"format":1}', '"x"', '{"tensors":{}}']);
    else if (choice === 1) text = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    else text = mutateJson(valid, rng);
    for (let i = tree.length - 1; i >= 0; i--) if (tree[i]!.id === 14 && rng.chance(0.5)) tree.splice(i, 1);
    tree.push(msg(14, [str(1, MANIFEST_KEY), str(2, text)]));
    return `manifest ${JSON.stringify(text.slice(0, 60))}`;
  },
  manyRepeated(tree, rng) {
    const count = rng.pick(size.repeated);
    const choice = rng.int(5);
    const nodes = messagesOf(tree, 'onnx.NodeProto');
    const graphs = messagesOf(tree, 'onnx.GraphProto');
    if (choice === 0 && nodes.length > 0) {
      const n = rng.pick(nodes);
      const input = n.find((f) => f.id === 1) ?? str(1, 'x');
      // Rebuilt, not unshifted one by one (that is quadratic: 150,000 unshifts take seconds).
      const fieldsBefore = n.splice(0);
      for (let i = 0; i < count; i++) n.push({ ...input });
      for (const f of fieldsBefore) n.push(f);
      return `${count} inputs on one node`;
    }
    if (choice === 1 && nodes.length > 0) {
      const values = new Uint8Array(count).fill(1);
      rng.pick(nodes).push(msg(5, [str(1, 'ints'), int(20, gen.ATTR.INTS), bytes(8, values)]));
      return `attribute with ${count} ints`;
    }
    if (choice === 2) {
      for (let i = 0; i < Math.min(count, 20_000); i++) tree.push(msg(8, [str(1, `d${i}`), int(2, i)]));
      return 'many opset imports';
    }
    if (choice === 3 && graphs.length > 0) {
      const g = rng.pick(graphs);
      for (let i = 0; i < Math.min(count, size.nodes); i++)
        g.push(msg(1, gen.node({ op: 'Relu', inputs: [`r${i}`], outputs: [`r${i + 1}`] })));
      return 'many tiny nodes';
    }
    if (graphs.length > 0) {
      // A chain of constant folds: each Add reads the previous sum and one more weight.
      const g = rng.pick(graphs);
      const n = rng.pick(size.folds);
      g.push(msg(5, gen.tensor({ name: 'fold_w', dims: [1] })));
      let prev = 'fold_w';
      for (let i = 0; i < n; i++) {
        g.push(msg(5, gen.tensor({ name: `fold_w${i}`, dims: [1], raw: gen.floats([i]) })));
        g.push(msg(1, gen.node({ op: 'Add', inputs: [prev, `fold_w${i}`], outputs: [`fold${i}`] })));
        prev = `fold${i}`;
      }
      g.push(msg(1, gen.node({ op: 'MatMul', inputs: ['x', prev], outputs: ['fold_out'] })));
      g.push(msg(12, gen.valueInfo('fold_out')));
      return `constant fold chain of ${n}`;
    }
    return 'nothing repeated';
  },
};

function manifestText(tree: Message): string | undefined {
  for (const f of tree) {
    if (f.id !== 14 || !('msg' in f)) continue;
    const key = f.msg.find((e) => e.id === 1);
    const value = f.msg.find((e) => e.id === 2);
    if (
      key &&
      'bytes' in key &&
      Buffer.from(key.bytes).toString() === MANIFEST_KEY &&
      value &&
      'bytes' in value
    )
      return Buffer.from(value.bytes).toString();
  }
  return undefined;
}

/** Replaces one value somewhere in a JSON document with a hostile one. */
function mutateJson(text: string, rng: Rng): string {
  const doc = JSON.parse(text) as unknown;
  const slots: [Record<string, unknown> | unknown[], string | number][] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        slots.push([v, i]);
        visit(x);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        slots.push([v as Record<string, unknown>, k]);
        visit(x);
      }
    }
  };
  visit(doc);
  const hostile = [
    null,
    -1,
    1e308,
    2 ** 53 + 2,
    1.5,
    '',
    hostileString(rng),
    [],
    {},
    [-1, 3],
    Array.from({ length: 70 }, () => 1),
    true,
  ];
  for (let n = 1 + rng.int(3); n > 0 && slots.length > 0; n--) {
    const [holder, key] = rng.pick(slots);
    (holder as Record<string | number, unknown>)[key] = rng.pick(hostile);
  }
  if (rng.chance(0.2) && doc && typeof doc === 'object' && 'tensors' in doc && Array.isArray(doc.tensors)) {
    doc.tensors.push(...doc.tensors);
  }
  return JSON.stringify(doc);
}

// Byte-level damage, after encoding.
function truncate(data: Uint8Array, rng: Rng): [Uint8Array, string] {
  const at = rng.int(data.length);
  return [data.subarray(0, at), `truncated at ${at} of ${data.length}`];
}

function havoc(data: Uint8Array, rng: Rng): [Uint8Array, string] {
  const out = Uint8Array.from(data);
  const n = 1 + rng.int(8);
  for (let i = 0; i < n && out.length > 0; i++) {
    const at = rng.int(out.length);
    out[at] = rng.pick([0x00, 0xff, 0x80, 0x7f, rng.int(256), out[at]! ^ (1 << rng.int(8))]);
  }
  return [out, `${n} bytes changed`];
}

function insertVarint(data: Uint8Array, rng: Rng): [Uint8Array, string] {
  const at = rng.int(data.length + 1);
  const junk = rng.pick([
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
    [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
    [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
    [0x3a, 0x80, 0x80, 0x80, 0x80, 0x08],
  ]);
  const out = new Uint8Array(data.length + junk.length);
  out.set(data.subarray(0, at));
  out.set(junk, at);
  out.set(data.subarray(at), at + junk.length);
  return [out, `${junk.length} junk bytes inserted at ${at}`];
}

export interface FuzzInput {
  bytes: Uint8Array;
  /** What was done, for the crash file and the log. */
  label: string;
}

const NAMES = Object.keys(MUTATIONS);

/** The input number `index` of the run seeded `seed`: always the same bytes. */
export function generate(seeds: Seed[], seed: number, index: number, heavy = true): FuzzInput {
  size = heavy ? SIZES.heavy : SIZES.light;
  const rng = new Rng(seed, index);
  const base = rng.pick(seeds);
  const steps: string[] = [base.name];
  const tree = clone(base.tree);
  const count = 1 + rng.int(rng.chance(0.2) ? 6 : 3);
  for (let i = 0; i < count; i++) {
    const name = rng.pick(NAMES);
    steps.push(`${name}: ${MUTATIONS[name]!(tree, rng, seeds)}`);
  }
  // Every mutation keeps the tree encodable: a failure here is the fuzzer's bug, and is thrown.
  let data = encode(tree);
  const damage = rng.next();
  if (damage < 0.2) {
    const [d, how] = truncate(data, rng);
    data = d;
    steps.push(how);
  } else if (damage < 0.35) {
    const [d, how] = havoc(data, rng);
    data = d;
    steps.push(how);
  } else if (damage < 0.4) {
    const [d, how] = insertVarint(data, rng);
    data = d;
    steps.push(how);
  }
  return { bytes: data, label: steps.join(' | ') };
}
