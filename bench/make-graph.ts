// A long chain graph for the scale bench: `nodes` nodes, every 10th a MatMul with its own small weight
// and the others Relu, written with protobufjs from onnx.proto (no Python needed).
import { encodeModel, tensorInfo } from '../test/support/onnx-reflection.ts';

const FLOAT = 1;

export function chainModel(nodes: number, width = 16): Uint8Array {
  const node: object[] = [];
  const initializer: object[] = [];
  const weight = new Uint8Array(width * width * 4);
  let x = 'x';
  for (let i = 0; i < nodes; i++) {
    const y = `v${i}`;
    if (i % 10 === 9) {
      const w = `layers.${i}.weight`;
      // Distinct contents, so that no two weights are duplicates.
      new DataView(weight.buffer).setFloat32(0, i, true);
      initializer.push({
        name: w,
        data_type: FLOAT,
        dims: [width, width],
        raw_data: Uint8Array.from(weight),
      });
      node.push({ name: `/layers.${i}/MatMul`, op_type: 'MatMul', input: [x, w], output: [y] });
    } else {
      node.push({ name: `/act${i}/Relu`, op_type: 'Relu', input: [x], output: [y] });
    }
    x = y;
  }
  const info = (name: string): object => tensorInfo(name, FLOAT, [1, width]);
  return encodeModel(
    { name: 'chain', node, initializer, input: [info('x')], output: [info(x)] },
    'paramtrace-bench',
  );
}
