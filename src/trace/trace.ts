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
  outputBytes: number;
  activationBytes: number;
}

export interface Trace {
  device: string;
  onnxruntimeVersion: string;
  inputs: { name: string; dtype: string; shape: number[]; from: string }[];
  /** OnnxNode.id → what the run showed; nodes that did not run are absent. */
  nodes: Record<string, NodeRun>;
  /** Nodes that ran on the CPU although a GPU provider was asked for. */
  fallbackNodes: string[];
}
