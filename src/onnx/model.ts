// The model as paramtrace sees it: structure, shapes and where each tensor's bytes live, never the bytes
// of a weight. Produced by read-model.ts, consumed by the analysis and the trace.
import type { DataType } from './dtype.ts';

export type { DataType };

/** The TensorProto fields that hold numbers: weight payloads, which the reader leaves in the file. */
export const NUMERIC_FIELDS = [
  'raw_data',
  'float_data',
  'int32_data',
  'int64_data',
  'double_data',
  'uint64_data',
] as const;

/** Which TensorProto field holds a tensor's values. */
export type TensorField = (typeof NUMERIC_FIELDS)[number] | 'string_data';

/** Where a tensor's values are. Offsets are byte offsets into the file named. */
export type TensorData =
  | { kind: 'none' }
  /** A length-delimited payload inside the model file (raw_data, or a packed typed field). */
  | { kind: 'in-file'; field: TensorField; offset: number; length: number }
  /** Values small enough to have been decoded with their message. */
  | { kind: 'inline'; field: TensorField; bytes?: Uint8Array; values?: readonly (number | bigint)[] }
  /** ONNX external data: `location` relative to the model's folder. */
  | { kind: 'external'; location: string; offset: number; length: number | undefined };

export interface OnnxTensor {
  name: string;
  dataType: DataType;
  dims: number[];
  /** Product of dims; a validated safe integer. */
  numel: number;
  data: TensorData;
}

export interface OnnxSparseTensor {
  /** The name of the dense tensor it stands for (values.name). */
  name: string;
  dataType: DataType;
  dims: number[];
  /** Elements of the dense tensor. */
  numel: number;
  /** Stored (non-zero) elements. */
  storedNumel: number;
  values: OnnxTensor;
  indices: OnnxTensor;
}

/** A dimension: a number, a symbolic name (dim_param), or unknown. */
export type Dim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  elemType: DataType | undefined;
  /** Undefined when the type has no shape (rank unknown). */
  shape: Dim[] | undefined;
}

export type AttributeValue =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'sparse_tensor'; value: OnnxSparseTensor }
  | { type: 'tensors'; value: OnnxTensor[] }
  | { type: 'graph'; value: OnnxGraph }
  | { type: 'graphs'; value: OnnxGraph[] }
  | { type: 'other'; value: undefined };

export interface OnnxAttribute {
  name: string;
  value: AttributeValue;
}

export interface OnnxNode {
  /** Unique within the model: the node's position, with subgraph nodes as `7/then_branch/0`. */
  id: string;
  /** The name the file gives (may be empty or repeated). */
  name: string;
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
  /** Graph-valued attributes (If branches, Loop and Scan bodies, any other), in attribute order. */
  subgraphs: { attribute: string; graph: OnnxGraph }[];
  /** NodeProto.metadata_props (e.g. the dynamo exporter's `pkg.torch.onnx.name_scopes`). */
  metadata: Record<string, string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  sparseInitializers: OnnxSparseTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
}

export interface OnnxModel {
  /** The path the model was read from, and its size in bytes. */
  file: { path: string; size: number };
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  /** opset version per domain ('' is the default ONNX domain). */
  opsets: Record<string, number>;
  /** ModelProto.metadata_props. */
  metadata: Record<string, string>;
  graph: OnnxGraph;
  /** Names of model-local functions (their bodies are not analyzed). */
  functions: string[];
}
