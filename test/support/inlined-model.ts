// A model whose nodes onnxruntime's If inlining renamed, as silero-vad ships: every node and weight of the
// then-branch carries the prefix `If_0_then_branch__Inline_0__` before the TorchScript scope
// (`/encoder/0/reparam_conv/MatMul`). Four encoder blocks (MatMul + Add + Relu), a decoder (rnn, a Relu of
// its own, out), and two root-level ops: 19 nodes in 13 module calls, 6 of them with parameters.
import * as gen from '../fuzz/onnx-gen.ts';
import type { Message } from '../fuzz/proto.ts';

export const INLINE_PREFIX = 'If_0_then_branch__Inline_0__';

export function inlinedModel(prefix = INLINE_PREFIX): Message {
  const nodes: Message[] = [];
  const initializers: Message[] = [];
  let seed = 0;
  const weight = (name: string, dims: number[]): string => {
    const numel = dims.reduce((a, d) => a * d, 1);
    initializers.push(
      gen.tensor({
        name: `${prefix}${name}`,
        dims,
        raw: gen.floats(Array.from({ length: numel }, (_, i) => seed * 100 + i + 1)),
      }),
    );
    seed++;
    return `${prefix}${name}`;
  };
  let value = 'x';
  const op = (type: string, scope: string, inputs: string[]): void => {
    const out = `${prefix}${scope}/${type}_output_0`;
    nodes.push(
      gen.node({ op: type, inputs: [value, ...inputs], outputs: [out], name: `${prefix}${scope}/${type}` }),
    );
    value = out;
  };
  for (let i = 0; i < 4; i++) {
    op('MatMul', `/encoder/${i}/reparam_conv`, [weight(`encoder.${i}.reparam_conv.weight`, [4, 4])]);
    op('Add', `/encoder/${i}/reparam_conv`, [weight(`encoder.${i}.reparam_conv.bias`, [4])]);
    op('Relu', `/encoder/${i}/activation`, []);
  }
  op('MatMul', '/decoder/rnn', [weight('decoder.rnn.weight', [4, 4])]);
  op('Add', '/decoder/rnn', [weight('decoder.rnn.bias', [4])]);
  op('Relu', '/decoder', []);
  op('MatMul', '/decoder/out', [weight('decoder.out.weight', [4, 1])]);
  op('Add', '/decoder/out', [weight('decoder.out.bias', [1])]);
  op('Sigmoid', '', []);
  nodes.push(gen.node({ op: 'Identity', inputs: [value], outputs: ['y'], name: `${prefix}/Identity` }));
  return gen.model(
    gen.graph({
      nodes,
      initializers,
      inputs: [gen.valueInfo('x', [1, 4])],
      outputs: [gen.valueInfo('y', [1, 1])],
    }),
  );
}
