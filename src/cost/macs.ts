// MACs (multiply-accumulates) of one execution of one node, from the shapes of what it read and wrote.
//
// The convention is fvcore's (FlopCountAnalysis, whose "flops" are MACs; torchvision's published GFLOPS
// figures are these), which is also torchinfo's for the layers both count:
// - Conv: output elements × (input channels / group) × kernel area; ConvTranspose: input elements ×
//   (output channels / group) × kernel area. Gemm, MatMul (batched, broadcast): output elements × the
//   contracted dimension. Biases add nothing (fvcore leaves the addition out).
// - LSTM / GRU / RNN: per time step, batch row and direction, gates × hidden × (input + hidden) for the
//   two matrix products, plus the cell's element-wise products (LSTM: f⊙c, i⊙g, o⊙tanh(c), and three more
//   with peepholes; GRU: r⊙(R·h), z⊙h, (1-z)⊙h̃; RNN: none), times the full sequence length (a
//   sequence_lens input that stops rows early is not read: an upper bound).
// - BatchNormalization (inference): 2 per input element; Layer/Instance/GroupNormalization: 5 per element
//   (fvcore's estimate for an affine normalization), MeanVarianceNormalization 4 (no affine).
// - Average pooling: one per element read (kernel area per output; global: the input's elements), as
//   fvcore's adaptive_avg_pool; max pooling 0 (comparisons). Resize: 1 per output element for nearest,
//   4 for linear, 16 for cubic (fvcore's upsample counts, 2-D neighbourhoods).
// - Element-wise arithmetic, activations, softmax, reductions, comparisons, quantize/dequantize: 0. They
//   do no multiply-accumulate; fvcore and torchinfo leave them out of the total too.
// - Data movement (Reshape, Transpose, Gather, Concat, Slice, Cast, ...) and control flow (If, Loop,
//   Scan: their bodies' nodes are counted themselves): 0.
// Any other operator (custom domains, TopK, Einsum over more than two operands, fused contrib ops) has
// no rule: the cost stage lists it rather than counting it as 0.
import type { OnnxNode } from '../onnx/model.ts';

/** A tensor's shape where known; undefined for an omitted optional input or an unknown shape. */
export type Shape = number[] | undefined;

export type MacResult =
  | { kind: 'counted'; macs: number }
  /** A rule applies, but the shapes it needs are unknown (a static analysis without value infos). */
  | { kind: 'no-shape' }
  /** No rule for this operator. */
  | { kind: 'no-rule' };

/** Operators with a rule of 0 MACs: element-wise, reductions, data movement, control flow. */
const ZERO = new Set([
  // element-wise arithmetic and math
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Neg', 'Abs', 'Reciprocal', 'Sqrt', 'Exp', 'Log', 'Floor',
  'Ceil', 'Round', 'Sign', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh',
  'Atanh', 'Erf', 'Max', 'Min', 'Sum', 'Mean', 'Clip', 'BitShift', 'BitwiseAnd', 'BitwiseOr',
  'BitwiseXor', 'BitwiseNot', 'IsNaN', 'IsInf',
  // activations
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh',
  'Softplus', 'Softsign', 'Gelu', 'Mish', 'ThresholdedRelu', 'Shrink', 'Softmax', 'LogSoftmax', 'Hardmax',
  // reductions and comparisons
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare', 'ArgMax', 'ArgMin', 'CumSum', 'Equal', 'Less',
  'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'Where',
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
  // data movement and shapes
  'Reshape', 'Transpose', 'Shape', 'Size', 'Gather', 'GatherElements', 'GatherND', 'Concat', 'Split',
  'Slice', 'Squeeze', 'Unsqueeze', 'Flatten', 'Identity', 'Constant', 'ConstantOfShape', 'Cast',
  'CastLike', 'Expand', 'Tile', 'Pad', 'Range', 'DepthToSpace', 'SpaceToDepth', 'Dropout', 'NonZero',
  'Scatter', 'ScatterND', 'ScatterElements', 'Compress', 'OneHot', 'EyeLike', 'Trilu', 'ReverseSequence',
  'MaxPool', 'GlobalMaxPool', 'MaxRoiPool', 'SplitToSequence', 'SequenceAt', 'SequenceConstruct',
  'SequenceEmpty', 'SequenceErase', 'SequenceInsert', 'SequenceLength', 'ConcatFromSequence',
  'Optional', 'OptionalGetElement', 'OptionalHasElement',
  // control flow: the bodies' nodes are counted on their own
  'If', 'Loop', 'Scan',
]); // prettier-ignore

const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function attr(node: OnnxNode, name: string): number | string | number[] | undefined {
  const a = node.attributes.find((x) => x.name === name)?.value;
  if (!a) return undefined;
  if (a.type === 'int' || a.type === 'float' || a.type === 'string' || a.type === 'ints') return a.value;
  return undefined;
}

function isDefaultDomain(node: OnnxNode): boolean {
  return node.domain === '' || node.domain === 'ai.onnx';
}

/** MACs; undefined when the shapes it needs are unknown; 'no-rule' when this use of the op has none. */
type Rule = (node: OnnxNode, inputs: Shape[], outputs: Shape[]) => number | undefined | 'no-rule';

/**
 * MACs of one execution of `node`. `inputs` and `outputs` follow node.inputs and node.outputs by
 * position (undefined where absent or unknown).
 */
export function macsOf(node: OnnxNode, inputs: Shape[], outputs: Shape[]): MacResult {
  if (!isDefaultDomain(node)) return { kind: 'no-rule' };
  if (ZERO.has(node.opType)) return { kind: 'counted', macs: 0 };
  // An op_type is the model's text: `__proto__` or `constructor` must not find Object.prototype's.
  const rule = Object.hasOwn(RULES, node.opType) ? RULES[node.opType] : undefined;
  if (!rule) return { kind: 'no-rule' };
  const macs = rule(node, inputs, outputs);
  if (macs === 'no-rule') return { kind: 'no-rule' };
  return macs === undefined || !Number.isFinite(macs) ? { kind: 'no-shape' } : { kind: 'counted', macs };
}

/** Conv-like: output elements × the weight's elements per output channel (Cin/group × kernel). */
const conv =
  (weightAt: number): Rule =>
  (_n, i, o) => {
    const w = i[weightAt];
    const y = o[0];
    if (!w || !y || w.length < 3) return undefined;
    return numel(y) * numel(w.slice(1));
  };

/** MatMul-like: output elements × A's last dimension (the contracted one; numpy's 1-D rules included). */
const matmul =
  (aAt: number): Rule =>
  (_n, i, o) => {
    const a = i[aAt];
    const y = o[0];
    if (!a || !y || a.length === 0) return undefined;
    return numel(y) * a.at(-1)!;
  };

/** The recurrent ops: gates and element-wise products per hidden unit and step. */
const recurrent =
  (gates: number, products: number): Rule =>
  (node, i) => {
    const [x, w, r] = i;
    if (!x || !w || !r || x.length !== 3 || w.length !== 3 || r.length !== 3) return undefined;
    const layout = attr(node, 'layout') === 1 ? 1 : 0;
    const seq = x[layout]!;
    const batch = x[1 - layout]!;
    const inputSize = x[2]!;
    const directions = w[0]!;
    const hidden = r[2]!;
    // LSTM's peepholes (input 7) multiply the cell state once more per gate that reads it.
    const peep = node.opType === 'LSTM' && i[7] !== undefined ? 3 : 0;
    const perStep = gates * hidden * (inputSize + hidden) + (products + peep) * hidden;
    return seq * batch * directions * perStep;
  };

const perInputElement =
  (ops: number): Rule =>
  (_n, i) =>
    i[0] ? ops * numel(i[0]) : undefined;

const RULES: Record<string, Rule> = {
  Conv: conv(1),
  ConvInteger: conv(1),
  QLinearConv: conv(3),
  ConvTranspose: (_n, i) => {
    const x = i[0];
    const w = i[1];
    if (!x || !w || w.length < 3) return undefined;
    return numel(x) * numel(w.slice(1));
  },
  MatMul: matmul(0),
  MatMulInteger: matmul(0),
  QLinearMatMul: matmul(0),
  Gemm: (node, i, o) => {
    const a = i[0];
    const y = o[0];
    if (!a || !y || a.length !== 2) return undefined;
    return numel(y) * (attr(node, 'transA') === 1 ? a[0]! : a[1]!);
  },
  Einsum: einsum,
  LSTM: recurrent(4, 3),
  GRU: recurrent(3, 3),
  RNN: recurrent(1, 0),
  BatchNormalization: perInputElement(2),
  LayerNormalization: perInputElement(5),
  InstanceNormalization: perInputElement(5),
  GroupNormalization: perInputElement(5),
  MeanVarianceNormalization: perInputElement(4),
  GlobalAveragePool: perInputElement(1),
  GlobalLpPool: perInputElement(1),
  AveragePool: pool,
  LpPool: pool,
  Resize: resize,
  Upsample: resize,
};

function pool(node: OnnxNode, _i: Shape[], o: Shape[]): number | undefined {
  const kernel = attr(node, 'kernel_shape');
  const y = o[0];
  if (!Array.isArray(kernel) || !y) return undefined;
  return numel(y) * numel(kernel);
}

function resize(node: OnnxNode, _i: Shape[], o: Shape[]): number | undefined {
  const y = o[0];
  if (!y) return undefined;
  const mode = attr(node, 'mode');
  const perOutput = mode === 'linear' || mode === 'bilinear' ? 4 : mode === 'cubic' ? 16 : 1;
  return perOutput * numel(y);
}

/**
 * Einsum of one or two operands: the product of every index's size (each output element sums over the
 * contracted indices: `bij,bjk->bik` is b·i·j·k). An ellipsis or more operands: no shape-free answer.
 */
function einsum(node: OnnxNode, i: Shape[]): number | undefined | 'no-rule' {
  const equation = attr(node, 'equation');
  if (typeof equation !== 'string' || equation.includes('.')) return 'no-rule';
  const terms = equation.replace(/\s/g, '').split('->')[0]!.split(',');
  if (terms.length > 2) return 'no-rule';
  if (terms.length !== i.length) return undefined;
  const sizes = new Map<string, number>();
  for (const [k, term] of terms.entries()) {
    const shape = i[k];
    if (!shape || shape.length !== term.length) return undefined;
    for (const [d, letter] of [...term].entries())
      sizes.set(letter, Math.max(sizes.get(letter) ?? 1, shape[d]!));
  }
  return numel([...sizes.values()]);
}
