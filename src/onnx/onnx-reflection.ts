// protobufjs' reflection of onnx.proto, for tools and tests that encode models or walk them generically
// (the fuzzer, the bench's model maker). The reader does not use it: it decodes with generated static
// code (stream-decode.ts), which needs nothing built at run time.
import protobuf from 'protobufjs/light.js';
import { ONNX_PROTO_JSON } from './onnx-proto.generated.ts';

let root: protobuf.Root | undefined;

export function onnxRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(ONNX_PROTO_JSON as unknown as protobuf.INamespace);
    root.resolveAll();
  }
  return root;
}

/** The bytes of a model given as a plain ModelProto object (protobufjs' fromObject form). */
export function encodeModel(model: object): Uint8Array {
  const type = onnxRoot().lookupType('onnx.ModelProto');
  return type.encode(type.fromObject(model)).finish();
}
