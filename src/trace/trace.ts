// What one real inference run showed: per node (by OnnxNode.id), how often it ran, its output shapes and
// where. Produced by the trace stage, read by the analysis.

export interface NodeRun {
  /** Times the node ran: more than 1 inside Loop/Scan bodies. */
  executions: number;
  /** Output shapes of the last execution. */
  outputShapes: number[][];
  provider: string;
  /** Total kernel time in microseconds over all executions. */
  durationUs: number;
  /** Bytes of the node's outputs, summed over all executions (like durationUs). */
  outputBytes: number;
  /** Bytes of the node's non-constant inputs, summed over all executions. */
  activationBytes: number;
  /** Bytes of the node's constant inputs (initializers) in one execution, as onnxruntime saw them. */
  parameterBytes?: number;
  /**
   * Set when no kernel of this node appears in the profile and its executions were inferred from the
   * nodes that consume its outputs: onnxruntime inlines model-local function calls under generated names.
   */
  inferred?: true;
}

/** A tensor as the run saw it: its ONNX element type (DataType's names: `float32`, `int64`) and shape. */
export interface TensorType {
  dtype: string;
  shape: number[];
}

/**
 * The tensors a node read and wrote in its last execution, in the profile's order: the inputs and outputs
 * that exist (an omitted optional one is not listed).
 */
export interface NodeShapes {
  inputs: TensorType[];
  outputs: TensorType[];
}

export interface Trace {
  device: string;
  onnxruntimeVersion: string;
  inputs: { name: string; dtype: string; shape: number[]; from: string }[];
  /**
   * What the reader should know about the inputs (a leading dimension set to 1, a scalar fed zeros);
   * the analysis adds them to the report's notes.
   */
  notes?: string[];
  /** OnnxNode.id → what the run showed; nodes that did not run are absent. */
  nodes: Record<string, NodeRun>;
  /** OnnxNode.id → the types and shapes of what it read and wrote (the cost stage counts MACs from them). */
  shapes?: Record<string, NodeShapes>;
  /** Node ids in the order they first ran (the cost stage's memory walk). */
  order?: string[];
  /** Nodes that ran on the CPU although a GPU provider was asked for. */
  fallbackNodes: string[];
  /** The device asked for (`device` is the one used). */
  requestedDevice?: 'auto' | 'cpu' | 'cuda';
  /** Why the device used differs from the one asked for (`auto` without a loadable CUDA provider). */
  deviceNote?: string;
  /** Kernels in the profile that belong to no node of the file (inserted copies and casts, inlined function bodies). */
  otherKernels?: { name: string; opType: string; provider: string; executions: number }[];
  /**
   * Wall-clock milliseconds in the worker: renaming the nodes, session creation, the run; and the worker
   * process's peak resident memory in bytes.
   */
  timing?: { renameMs: number; sessionMs: number; runMs: number; peakRssBytes?: number };
}
