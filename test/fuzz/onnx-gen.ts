// ONNX models built as protobuf fields: small valid ones to start from, and the hostile shapes that are
// cheap as bytes and expensive to read carelessly (graphs nested 10,000 deep, 300,000 nodes, a node with
// 200,000 inputs, cycles).
import { bytes, encode, f32, int, msg, str, type Field, type Message } from './proto.ts';

export const FLOAT = 1;
export const INT64 = 7;
export const INT8 = 3;
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, INTS: 7, GRAPHS: 10 } as const;

export interface TensorSpec {
  name: string;
  dims: (number | bigint)[];
  dataType?: number;
  /** raw_data; default: numel little-endian float32 values 1, 2, 3, ... */
  raw?: Uint8Array;
  extra?: Field[];
}

export function floats(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

export function tensor(spec: TensorSpec): Message {
  const numel = spec.dims.reduce<number>((a, d) => a * Number(d), 1);
  const raw = spec.raw ?? floats(Array.from({ length: Math.min(numel, 1 << 16) }, (_, i) => i + 1));
  return [
    ...spec.dims.map((d) => int(1, d)),
    int(2, spec.dataType ?? FLOAT),
    str(8, spec.name),
    bytes(9, raw),
    ...(spec.extra ?? []),
  ];
}

export function valueInfo(name: string, dims: (number | string)[] = [1], elemType = FLOAT): Message {
  const dim = dims.map((d) => msg(1, [typeof d === 'number' ? int(1, d) : str(2, d)]));
  return [str(1, name), msg(2, [msg(1, [int(1, elemType), msg(2, dim)])])];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Message[];
}

export function node(spec: NodeSpec): Message {
  return [
    ...spec.inputs.map((i) => str(1, i)),
    ...spec.outputs.map((o) => str(2, o)),
    ...(spec.name !== undefined ? [str(3, spec.name)] : []),
    str(4, spec.op),
    ...(spec.domain !== undefined ? [str(7, spec.domain)] : []),
    ...(spec.attributes ?? []).map((a) => msg(5, a)),
  ];
}

export const graphAttribute = (name: string, graph: Message): Message => [
  str(1, name),
  int(20, ATTR.GRAPH),
  msg(6, graph),
];
export const intAttribute = (name: string, value: number | bigint): Message => [
  str(1, name),
  int(20, ATTR.INT),
  int(3, value),
];
export const floatAttribute = (name: string, value: number): Message => [
  str(1, name),
  int(20, ATTR.FLOAT),
  f32(2, value),
];

export interface GraphSpec {
  nodes: Message[];
  initializers?: Message[];
  inputs?: Message[];
  outputs?: Message[];
  valueInfo?: Message[];
  name?: string;
}

export function graph(spec: GraphSpec): Message {
  return [
    ...spec.nodes.map((n) => msg(1, n)),
    str(2, spec.name ?? 'g'),
    ...(spec.initializers ?? []).map((t) => msg(5, t)),
    ...(spec.inputs ?? []).map((v) => msg(11, v)),
    ...(spec.outputs ?? []).map((v) => msg(12, v)),
    ...(spec.valueInfo ?? []).map((v) => msg(13, v)),
  ];
}

export function model(
  g: Message,
  options: { opset?: number; metadata?: Record<string, string> } = {},
): Message {
  return [
    int(1, 8),
    str(2, 'paramtrace-fuzz'),
    str(3, '1'),
    msg(8, [str(1, ''), int(2, options.opset ?? 17)]),
    msg(7, g),
    ...Object.entries(options.metadata ?? {}).map(([k, v]) => msg(14, [str(1, k), str(2, v)])),
  ];
}

/** x → MatMul(w_i) → ... `count` layers, each with its own 2x2 weight: a valid model with `count` layer calls. */
export function chainModel(count: number, options: { shareEvery?: number; prefix?: string } = {}): Message {
  const nodes: Message[] = [];
  const initializers: Message[] = [];
  const prefix = options.prefix ?? '/layer';
  let value = 'x';
  for (let i = 0; i < count; i++) {
    const shared = options.shareEvery !== undefined && i % options.shareEvery !== 0;
    const weight = shared ? `w${i - (i % options.shareEvery!)}` : `w${i}`;
    if (!shared)
      initializers.push(tensor({ name: weight, dims: [2, 2], raw: floats([i, i + 1, i + 2, i + 3]) }));
    const out = i === count - 1 ? 'y' : `h${i}`;
    nodes.push(node({ op: 'MatMul', inputs: [value, weight], outputs: [out], name: `${prefix}${i}/MatMul` }));
    value = out;
  }
  return model(
    graph({
      nodes,
      initializers,
      inputs: [valueInfo('x', [1, 2])],
      outputs: [valueInfo('y', [1, 2])],
    }),
  );
}

/** If inside If inside If ..., `depth` levels, each branch with one MatMul on an outer weight. */
export function nestedIfModel(depth: number): Message {
  let inner = graph({
    nodes: [node({ op: 'MatMul', inputs: ['x', 'w'], outputs: ['z'] })],
    outputs: [valueInfo('z', [1, 2])],
  });
  for (let level = depth - 1; level >= 0; level--) {
    const ifNode = node({
      op: 'If',
      inputs: ['cond'],
      outputs: [level === 0 ? 'y' : 'z'],
      name: `if${level}`,
      attributes: [graphAttribute('then_branch', inner), graphAttribute('else_branch', inner.slice(0, 0))],
    });
    inner =
      level === 0
        ? graph({
            nodes: [ifNode],
            initializers: [tensor({ name: 'w', dims: [2, 2] })],
            inputs: [valueInfo('x', [1, 2]), valueInfo('cond', [], 9)],
            outputs: [valueInfo('y', [1, 2])],
          })
        : graph({ nodes: [ifNode], outputs: [valueInfo('z', [1, 2])] });
  }
  return model(inner);
}

/** Sequence of sequence of ... tensor type, `depth` deep, as a graph input's type. */
export function nestedTypeModel(depth: number): Message {
  let type: Message = [msg(1, [int(1, FLOAT)])];
  for (let i = 0; i < depth; i++) type = [msg(4, [msg(1, type)])];
  return model(
    graph({
      nodes: [node({ op: 'Identity', inputs: ['x'], outputs: ['y'] })],
      inputs: [[str(1, 'x'), msg(2, type)]],
      outputs: [valueInfo('y')],
    }),
  );
}

/** One node with `count` inputs, all weights. */
export function wideNodeModel(count: number): Message {
  const inputs = Array.from({ length: count }, (_, i) => (i === 0 ? 'x' : 'w'));
  return model(
    graph({
      nodes: [node({ op: 'Sum', inputs, outputs: ['y'] })],
      initializers: [tensor({ name: 'w', dims: [2] })],
      inputs: [valueInfo('x', [2])],
      outputs: [valueInfo('y', [2])],
    }),
  );
}

/** Nodes whose outputs feed earlier nodes: a -> b -> c -> a, and one node reading its own output. */
export function cycleModel(length: number): Message {
  const nodes: Message[] = [];
  for (let i = 0; i < length; i++) {
    nodes.push(
      node({
        op: 'Add',
        inputs: [`v${(i + length - 1) % length}`, `w`],
        outputs: [`v${i}`],
        name: `/cycle${i}/Add`,
      }),
    );
  }
  nodes.push(node({ op: 'MatMul', inputs: ['self', 'w'], outputs: ['self'], name: 'self' }));
  nodes.push(node({ op: 'Add', inputs: ['v0', 'self'], outputs: ['y'] }));
  return model(
    graph({
      nodes,
      initializers: [tensor({ name: 'w', dims: [2, 2] })],
      inputs: [valueInfo('x', [2, 2])],
      outputs: [valueInfo('y', [2, 2])],
    }),
  );
}

/** w + b0 + b1 + ... as a chain of `count` Adds of constants, then one MatMul that uses the sum. */
export function foldChainModel(count: number): Message {
  const nodes: Message[] = [];
  const initializers = [tensor({ name: 'w', dims: [2, 2] })];
  let prev = 'w';
  for (let i = 0; i < count; i++) {
    initializers.push(tensor({ name: `b${i}`, dims: [2, 2], raw: floats([i, 0, 0, i]) }));
    nodes.push(node({ op: 'Add', inputs: [prev, `b${i}`], outputs: [`s${i}`] }));
    prev = `s${i}`;
  }
  nodes.push(node({ op: 'MatMul', inputs: ['x', prev], outputs: ['y'], name: '/head/MatMul' }));
  return model(
    graph({ nodes, initializers, inputs: [valueInfo('x', [1, 2])], outputs: [valueInfo('y', [1, 2])] }),
  );
}

export const build = (m: Message): Uint8Array => encode(m);
