// Types the analysis modules share: the content reader they ask for weight bytes, the classification of
// constants, and the logical tensors they count. Apart from analyze.ts so that its helpers (duplicates,
// manifest mapping, exporter-made constants) import no part of it.
import type { OnnxTensor } from '../onnx/model.ts';
import type { SampleKey } from '../onnx/tensor-bytes.ts';
import type { ConstantTensor, NodeFacts } from './graph-walk.ts';

/**
 * Content of weights, read lazily and only for the tensors that need it (TensorReader): full fingerprints,
 * and for duplicates a sampled prefilter, then a full comparison only of the candidates whose samples
 * still agree.
 */
export interface TensorContent {
  fingerprint(tensor: OnnxTensor): string;
  transposedFingerprint(tensor: OnnxTensor): string | undefined;
  isUniform(tensor: OnnxTensor): boolean;
  sampleKey(tensor: OnnxTensor): SampleKey;
  /** The key the 2-D tensor's transpose would have, or undefined when it has no transpose to compare. */
  transposedSampleKey(tensor: OnnxTensor): SampleKey | undefined;
  sameContent(a: OnnxTensor, b: OnnxTensor): boolean;
  /** Whether `other` holds `tensor` transposed. */
  isTransposeOf(tensor: OnnxTensor, other: OnnxTensor): boolean;
  /** The number of distinct values when at most `ratio` of the elements (a gathered table); else undefined. */
  distinctValues(tensor: OnnxTensor, ratio?: number): number | undefined;
}

/** A parameter or buffer as counted: one tensor, however many initializers store it. */
export interface LogicalTensor {
  name: string;
  aliases: string[];
  kind: 'parameter' | 'buffer';
  storedAs: ConstantTensor[];
  dtype: string;
  shape: number[];
  numel: number;
  trainable: boolean | null;
  /** The manifest names it but the graph does not have it. */
  notExported: boolean;
}

export interface Classified {
  /** Constant keys that are parameters in ONNX terms. */
  parameters: Set<string>;
  buffers: Set<string>;
}

/** One layer call as the analysis builds it: its nodes, whether it is live and ran, the parameters it uses. */
export interface CallFacts {
  key: string;
  name: string;
  graph: string;
  nodes: NodeFacts[];
  live: boolean;
  executions: number;
  params: Set<string>;
}
