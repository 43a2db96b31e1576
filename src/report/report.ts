// The report: one typed object that flows from the analysis through comparison and rendering, and is
// also paramtrace's JSON format (`paramtrace analyze --json`). Counts are numbers of elements.

export const SCHEMA_VERSION = 1;

export type UnusedReason = 'not-exported' | 'orphan' | 'dead' | 'not-executed';
export type Dim = number | string | null;

export interface Report {
  schemaVersion: typeof SCHEMA_VERSION;
  tool: { name: 'paramtrace'; version: string };
  model: {
    file: string;
    sizeBytes: number;
    producer: string;
    producerVersion: string;
    irVersion: number;
    opsets: Record<string, number>;
  };
  /** `manifest`: PyTorch's declared parameters from the embedded manifest; `graph`: the ONNX graph alone. */
  source: 'manifest' | 'graph';
  trace: TraceInfo;
  counts: Counts;
  /** Parameter bytes by dtype (declared parameters, each stored tensor once). */
  bytesByDtype: Record<string, number>;
  parameters: Parameter[];
  buffers: Buffer[];
  shared: SharedParameter[];
  unused: UnusedParameter[];
  duplicates: DuplicateStorage[];
  valueMerged: ValueMergedConstant[];
  layers: LayerCall[];
  /** Plain-language explanations: what the counts rest on and where they differ from PyTorch's. */
  notes: string[];
  /** Where the analysis spent its time and memory, phase by phase (absent in reports of older versions). */
  timings?: PhaseTiming[];
  /**
   * Graph-only reports: what the exporter did that makes PyTorch's own counts differ from these, and by
   * how much (counting.md, "Where a graph-only count differs from PyTorch's"). Absent in older reports.
   */
  differences?: PyTorchDifference[];
}

/** How much higher PyTorch's count is than the report's (negative: lower); min = max when known exactly. */
export interface CountGap {
  min: number;
  max: number;
}

export interface PyTorchDifference {
  /**
   * `batchnorm-folded`: BatchNormalization folded into a Conv; `clones-merged`: equal tensors of sibling
   * modules merged into one; `lookup-folded`: a table gathered by constant indices folded into a constant;
   * `values-merged`: all-equal constants of several modules merged into one.
   */
  cause: 'batchnorm-folded' | 'clones-merged' | 'data-operand' | 'lookup-folded' | 'values-merged';
  /** The tensors of the file involved. */
  tensors: string[];
  declared: CountGap;
  unique: CountGap;
  summary: CountGap;
  note: string;
}

/**
 * One phase of the analysis: `read` (the model's structure), `trace` (the onnxruntime run, in its worker),
 * `fingerprint` (reading weight bytes to find duplicates and map the manifest), `analyze` (the rest).
 */
export interface PhaseTiming {
  phase: string;
  /** Wall-clock milliseconds, not counting phases run inside it (fingerprinting runs inside analyzing). */
  ms: number;
  /**
   * Peak resident memory during the phase, in bytes (on Linux; elsewhere the process's peak so far).
   * For the trace, the worker process's peak is added to this process's.
   */
  peakRssBytes: number;
}

export interface Counts {
  declared: number;
  unique: number;
  summary: number;
  /** null without a manifest: an ONNX file does not record requires_grad. */
  trainable: number | null;
  frozen: number | null;
  buffers: number;
  /** Bytes of the declared parameters. */
  parameterBytes: number;
}

export type TraceInfo =
  | { mode: 'static'; note: string }
  | {
      mode: 'onnxruntime';
      device: string;
      onnxruntimeVersion: string;
      inputs: { name: string; dtype: string; shape: number[]; from: string }[];
      fallbackNodes: string[];
      /** Why the requested device was not used (e.g. the CUDA provider did not load). */
      deviceNote?: string;
      note: string;
    }
  | { mode: 'failed'; error: string; note: string };

export interface Parameter {
  /** PyTorch's name with a manifest; otherwise the initializer's name. */
  name: string;
  /** Other names of the same tensor: PyTorch aliases, or initializers holding a copy of it. */
  aliases: string[];
  /** Initializer names in the ONNX file that store it (empty when not exported). */
  storedAs: string[];
  dtype: string;
  shape: number[];
  numel: number;
  /**
   * Executed, live layer calls that use it. Static (no trace): on the execution path that uses it most,
   * taking one branch of each If (counting.md, "Control flow without a trace").
   */
  calls: number;
  used: boolean;
  trainable: boolean | null;
  /**
   * Static reports only: used on some execution paths but not on all, only inside If branches, so a run
   * may leave it unused. It still counts as used (unique). Absent otherwise, and in traced reports.
   */
  conditional?: true;
  /** With `conditional`: the If branches that use it, `<If node>:<branch>`, nested ones joined by ` > `. */
  branches?: string[];
}

export interface Buffer {
  name: string;
  dtype: string;
  shape: number[];
  numel: number;
}

export interface SharedParameter {
  name: string;
  numel: number;
  /** As Parameter.calls: static, on the path that uses it most (never both branches of one If). */
  calls: number;
  /** The calls counted in `calls`. */
  callNames: string[];
  /** What it adds to summary-style: numel * (calls - 1). */
  extraInSummary: number;
}

export interface UnusedParameter {
  name: string;
  numel: number;
  reason: UnusedReason;
  detail: string;
}

export interface DuplicateStorage {
  /** Initializer names holding the same values; the first is the one counted. */
  names: string[];
  numel: number;
  transposed: boolean;
  bytesWasted: number;
}

/** One constant that the exporter merged by value and many unrelated layers read: not real sharing. */
export interface ValueMergedConstant {
  name: string;
  numel: number;
  callNames: string[];
  note: string;
}

export interface LayerCall {
  /** The call's name: the exporter's scope (`layer1.0.conv1`, `conv1_1` for a second call) or the node's. */
  name: string;
  /** Module class (manifest) or the op types of its nodes. */
  type: string;
  opTypes: string[];
  /** Where it runs: '' for the main graph, else the control-flow node and branch/body. */
  graph: string;
  parameters: string[];
  /** Sum of numel of the parameters it uses. */
  params: number;
  outputShapes: Dim[][] | null;
  live: boolean;
  /** How many times it ran; 1 when static. */
  executions: number;
}
