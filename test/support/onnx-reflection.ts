// protobufjs' reflection of onnx.proto, for tools and tests that encode models or walk them generically
// (the fuzzer, the bench's model maker). The reader does not use it: it decodes with generated static
// code (stream-decode.ts), which needs nothing built at run time.
import protobuf from 'protobufjs/light.js';
import { ONNX_PROTO_JSON } from '../../src/onnx/onnx-proto.generated.ts';

let root: protobuf.Root | undefined;

export function onnxRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace);
    root.resolveAll();
  }
  return root;
}

/**
 * The bytes of a model of one graph (a plain GraphProto object, protobufjs' fromObject form), at IR
 * version 8 and the default domain's opset 13.
 */
export function encodeModel(graph: object, producer = 'paramtrace-test'): Uint8Array {
  const type = onnxRoot().lookupType('onnx.ModelProto');
  const model = {
    ir_version: 8,
    producer_name: producer,
    opset_import: [{ domain: '', version: 13 }],
    graph,
  };
  return type.encode(type.fromObject(model)).finish();
}

/** A ValueInfoProto object: a tensor of `elemType` (TensorProto.DataType) with fixed dims. */
export function tensorInfo(name: string, elemType: number, dims: readonly number[]): object {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
  };
}
