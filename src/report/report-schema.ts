// The report, defined once: this TypeBox schema is the JSON Schema that reports read back from files and
// artifacts must match exactly (untrusted: bounded strings and lists, no extra keys), and report.ts derives
// the TypeScript types from it. scripts/gen-report-validator.ts compiles it ahead of time.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { MAX_STRING } from './clip.ts';
import { DIFFERENCE_CAUSES, SCHEMA_VERSION, SOURCES, UNUSED_REASONS } from './lists.ts';

/** One of a list of string constants (`enum`, as the JSON Schema spells it). */
export const oneOf = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const name = Type.String({ maxLength: MAX_STRING });
export const count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export const signed = Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });
export const names = Type.Array(name, { maxItems: 100_000 });
export const shape = Type.Array(count, { maxItems: 64 });
export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** An object with exactly these keys (Type.Optional ones may be absent), nothing else. */
export const object = <P extends Record<string, TSchema>>(
  properties: P,
  options: { description?: string } = {},
) => Type.Object(properties, { additionalProperties: false, ...options });
export const list = <T extends TSchema>(items: T, maxItems = 1_000_000) => Type.Array(items, { maxItems });
/** A JSON object used as a map from any key to a count (TypeBox's Record would let odd keys through). */
const countsByKey = (maxProperties: number) =>
  Type.Unsafe<Record<string, number>>({ type: 'object', additionalProperties: count, maxProperties });

export const DimSchema = Type.Union([count, name, Type.Null()]);

export const CountGapSchema = object(
  { min: signed, max: signed },
  {
    description:
      "How much higher PyTorch's count is than the report's (negative: lower); min = max when known exactly.",
  },
);

export const PyTorchDifferenceSchema = object({
  cause: oneOf(DIFFERENCE_CAUSES, {
    description:
      '`batchnorm-folded`: BatchNormalization folded into a Conv; `clones-merged`: equal tensors of sibling modules merged into one; `data-operand`: a named tensor fed to a layer as its data (a buffer or a learned input: the graph cannot tell); `lookup-folded`: a table gathered by constant indices folded into a constant; `values-merged`: all-equal constants of several modules merged into one.',
  }),
  tensors: Type.Array(name, { maxItems: 100_000, description: 'The tensors of the file involved.' }),
  declared: CountGapSchema,
  unique: CountGapSchema,
  summary: CountGapSchema,
  note: name,
});

export const PhaseTimingSchema = object(
  {
    phase: name,
    ms: Type.Number({
      minimum: 0,
      maximum: 1e12,
      description:
        'Wall-clock milliseconds, not counting phases run inside it (fingerprinting runs inside analyzing).',
    }),
    peakRssBytes: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        "Peak resident memory during the phase, in bytes (on Linux; elsewhere the process's peak so far). For the trace, the worker process's peak is added to this process's.",
    }),
  },
  {
    description:
      'One phase of the analysis: `read` (the structure), `trace` (the onnxruntime run, in its worker), `fingerprint` (reading weight bytes to find duplicates and map the manifest), `analyze` (the rest).',
  },
);

export const CountsSchema = object({
  declared: count,
  unique: count,
  summary: count,
  /** null without a manifest: an ONNX file does not record requires_grad. */
  trainable: nullable(count),
  frozen: nullable(count),
  buffers: count,
  /** Bytes of the declared parameters. */
  parameterBytes: count,
  /** Multiply-accumulates of one run, as `cost.macs` (absent in reports of older versions). */
  macs: Type.Optional(count),
});

const CallCostSchema = object({
  /** The call's name and graph, as `layers` names them. */
  name,
  graph: name,
  macs: count,
  executions: count,
  /** Some of its nodes are in `uncounted`: its MACs are a lower bound. */
  incomplete: Type.Optional(Type.Literal(true)),
});

const UncountedOpSchema = object({
  opType: name,
  /** '' for the default ONNX domain. */
  domain: name,
  /** `no-rule`: no MAC rule for the operator; `no-shape`: a rule, but the shapes it needs are unknown. */
  reason: oneOf(['no-rule', 'no-shape'] as const),
  nodes: count,
  executions: count,
});

/** What one run costs: MACs (counting.md, "MACs and memory") and activation memory. */
export const ReportCostSchema = object({
  /** Where the shapes came from: the run's profile, or the graph's declared shapes. */
  shapes: oneOf(['traced', 'static'] as const),
  /** Total MACs of the counted nodes (Loop bodies times their iterations; without a trace an If's costlier branch). */
  macs: count,
  /** The layer calls that ran, in graph order. */
  calls: list(CallCostSchema),
  /** Operators that ran but could not be counted: the total leaves them out. */
  uncounted: list(UncountedOpSchema, 10_000),
  memory: object({
    /** Bytes of the inputs fed (traced) or declared with fixed shapes (static). */
    inputBytes: count,
    /** Bytes of every tensor the compute nodes wrote, over all executions. */
    activationBytes: count,
    /** Most activation bytes (fed inputs included) alive at once in the main graph. */
    peakActivationBytes: count,
    /** Activation tensors of unknown size, left out of the figures above (0 with a trace). */
    unknownTensors: count,
  }),
});

const TraceInput = object({ name, dtype: name, shape, from: name });
/** How execution was decided: by choice without a trace, by one onnxruntime run, or statically after a trace failed. */
export const TraceInfoSchema = Type.Union([
  object({ mode: Type.Literal('static'), note: name }),
  object({
    mode: Type.Literal('onnxruntime'),
    device: name,
    onnxruntimeVersion: name,
    inputs: list(TraceInput, 1000),
    fallbackNodes: names,
    /** Why the requested device was not used (e.g. the CUDA provider did not load). */
    deviceNote: Type.Optional(name),
    note: name,
  }),
  object({ mode: Type.Literal('failed'), error: name, note: name }),
]);

export const ParameterSchema = object({
  /** PyTorch's name with a manifest; otherwise the initializer's name. */
  name,
  /** Other names of the same tensor: PyTorch aliases, or initializers holding a copy of it. */
  aliases: names,
  /** Initializer names in the ONNX file that store it (empty when not exported). */
  storedAs: names,
  dtype: name,
  shape,
  numel: count,
  /**
   * Executed, live layer calls that use it. Static (no trace): on the execution path that uses it most,
   * taking one branch of each If (counting.md, "Control flow without a trace").
   */
  calls: count,
  used: Type.Boolean(),
  trainable: nullable(Type.Boolean()),
  /**
   * Static reports only: used on some execution paths but not on all, only inside If branches, so a run
   * may leave it unused. It still counts as used (unique). Absent otherwise, and in traced reports.
   */
  conditional: Type.Optional(Type.Literal(true)),
  /** With `conditional`: the If branches that use it, `<If node>:<branch>`, nested ones joined by ` > `. */
  branches: Type.Optional(names),
});

export const BufferSchema = object({ name, dtype: name, shape, numel: count });

export const SharedParameterSchema = object({
  name,
  numel: count,
  /** As Parameter.calls: static, on the path that uses it most (never both branches of one If). */
  calls: count,
  /** The calls counted in `calls`. */
  callNames: names,
  /** What it adds to summary-style: numel * (calls - 1). */
  extraInSummary: count,
});

export const UnusedParameterSchema = object({
  name,
  numel: count,
  reason: oneOf(UNUSED_REASONS),
  detail: name,
});

export const DuplicateStorageSchema = object({
  /** Initializer names holding the same values; the first is the one counted. */
  names,
  numel: count,
  transposed: Type.Boolean(),
  bytesWasted: count,
});

/** One constant that the exporter merged by value and many unrelated layers read: not real sharing. */
export const ValueMergedConstantSchema = object({ name, numel: count, callNames: names, note: name });

export const LayerCallSchema = object({
  /** The call's name: the exporter's scope (`layer1.0.conv1`, `conv1_1` for a second call) or the node's. */
  name,
  /** Module class (manifest) or the op types of its nodes. */
  type: name,
  opTypes: names,
  /** Where it runs: '' for the main graph, else the control-flow node and branch/body. */
  graph: name,
  parameters: names,
  /** Sum of numel of the parameters it uses. */
  params: count,
  outputShapes: nullable(list(Type.Array(DimSchema, { maxItems: 64 }), 1000)),
  live: Type.Boolean(),
  /** How many times it ran; 1 when static. */
  executions: count,
});

/** The `$id` by which the comparison and the bundle refer to the report. */
export const REPORT_ID = 'paramtrace-report';

export const ReportSchema = Type.Object(
  {
    schemaVersion: Type.Literal(SCHEMA_VERSION),
    tool: object({ name: Type.Literal('paramtrace'), version: name }),
    model: object({
      file: name,
      sizeBytes: count,
      producer: name,
      producerVersion: name,
      irVersion: count,
      opsets: countsByKey(1000),
    }),
    /** `manifest`: PyTorch's declared parameters from the embedded manifest; `graph`: the ONNX graph alone. */
    source: oneOf(SOURCES),
    trace: TraceInfoSchema,
    counts: CountsSchema,
    /** Parameter bytes by dtype (declared parameters, each stored tensor once). */
    bytesByDtype: countsByKey(64),
    parameters: list(ParameterSchema),
    buffers: list(BufferSchema),
    shared: list(SharedParameterSchema),
    unused: list(UnusedParameterSchema),
    duplicates: list(DuplicateStorageSchema),
    valueMerged: list(ValueMergedConstantSchema),
    layers: list(LayerCallSchema),
    /** Plain-language explanations: what the counts rest on and where they differ from PyTorch's. */
    notes: list(name, 1000),
    /** Where the analysis spent its time and memory, phase by phase (absent in reports of older versions). */
    timings: Type.Optional(list(PhaseTimingSchema, 64)),
    /**
     * Graph-only reports: what the exporter did that makes PyTorch's own counts differ from these, and by
     * how much (counting.md, "Where a graph-only count differs from PyTorch's"). Absent in older reports.
     */
    differences: Type.Optional(list(PyTorchDifferenceSchema, 1000)),
    /** MACs per layer call and activation memory (absent in reports of older versions). */
    cost: Type.Optional(ReportCostSchema),
  },
  { $id: REPORT_ID, additionalProperties: false },
);

/** The report where another contract holds one: a reference to the report's schema by its `$id`. */
export const ReportRef = Type.Unsafe<Static<typeof ReportSchema>>({ $ref: REPORT_ID });
