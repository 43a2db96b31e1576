// Reads onnxruntime's profile events and sums the node events per node. A node event is named
// `<node name>_kernel_time` and carries, in `args`: op_name, provider, input_type_shape /
// output_type_shape (lists of {dtype: shape}), activation_size, parameter_size and output_size (byte
// counts as strings). Nodes inside If/Loop/Scan bodies have one event per execution.
import type { NodeRun, NodeShapes, TensorType, Trace } from './trace.ts';

const KERNEL_SUFFIX = '_kernel_time';

export interface KernelEvent {
  /** The node name (the event name without `_kernel_time`). */
  node: string;
  opType: string;
  provider: string;
  durationUs: number;
  outputShapes: number[][];
  /** The inputs' and outputs' element types and shapes (input_type_shape, output_type_shape). */
  inputTypes: TensorType[];
  outputTypes: TensorType[];
  outputBytes: number;
  activationBytes: number;
  parameterBytes: number;
}

interface RawEvent {
  cat?: unknown;
  name?: unknown;
  dur?: unknown;
  args?: Record<string, unknown>;
}

/** The node event in one parsed profile event, or undefined for session and other events. */
export function toKernelEvent(raw: unknown): KernelEvent | undefined {
  const e = raw as RawEvent | null;
  if (e?.cat !== 'Node' || typeof e.name !== 'string' || !e.name.endsWith(KERNEL_SUFFIX)) return undefined;
  const args = e.args ?? {};
  return {
    node: e.name.slice(0, -KERNEL_SUFFIX.length),
    opType: String(args.op_name ?? ''),
    provider: String(args.provider ?? ''),
    durationUs: Number(e.dur ?? 0),
    outputShapes: shapes(args.output_type_shape),
    inputTypes: tensorTypes(args.input_type_shape),
    outputTypes: tensorTypes(args.output_type_shape),
    outputBytes: Number(args.output_size ?? 0),
    activationBytes: Number(args.activation_size ?? 0),
    parameterBytes: Number(args.parameter_size ?? 0),
  };
}

/** `[{"float":[1,4]}, {"int64":[]}]` → `[[1, 4], []]`. */
function shapes(value: unknown): number[][] {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const dims =
      entry && typeof entry === 'object' ? Object.values(entry as Record<string, unknown>)[0] : undefined;
    return Array.isArray(dims) ? dims.map(Number) : [];
  });
}

/** onnxruntime's names for element types where they differ from ONNX DataType's (dtype.ts). */
const ORT_DTYPES: Record<string, string> = { float: 'float32', double: 'float64', mlfloat16: 'float16' };

/** `[{"float":[1,4]}]` → `[{dtype: 'float32', shape: [1, 4]}]`. */
function tensorTypes(value: unknown): TensorType[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry) => {
    const [name, dims] =
      entry && typeof entry === 'object' ? (Object.entries(entry as Record<string, unknown>)[0] ?? []) : [];
    const lower = String(name ?? 'unknown').toLowerCase();
    return { dtype: ORT_DTYPES[lower] ?? lower, shape: Array.isArray(dims) ? dims.map(Number) : [] };
  });
}

export interface JoinedKernels {
  nodes: Record<string, NodeRun>;
  /** Node id → the types and shapes of its last execution's inputs and outputs. */
  shapes: Record<string, NodeShapes>;
  /** Node ids in the order of their first event. */
  order: string[];
  otherKernels: NonNullable<Trace['otherKernels']>;
}

/** Sums kernel events per node id as they come; `idOf` maps a node name to its id, or undefined. */
export class KernelJoin {
  private readonly nodes: Record<string, NodeRun> = {};
  private readonly shapes: Record<string, NodeShapes> = {};
  private readonly order: string[] = [];
  private readonly other = new Map<string, NonNullable<Trace['otherKernels']>[number]>();

  constructor(private readonly idOf: (name: string) => string | undefined) {}

  add(e: KernelEvent): void {
    const id = this.idOf(e.node);
    if (id === undefined) {
      const entry = this.other.get(e.node) ?? {
        name: e.node,
        opType: e.opType,
        provider: e.provider,
        executions: 0,
      };
      entry.executions += 1;
      this.other.set(e.node, entry);
      return;
    }
    if (!this.nodes[id]) this.order.push(id);
    this.shapes[id] = { inputs: e.inputTypes, outputs: e.outputTypes };
    const run = (this.nodes[id] ??= {
      executions: 0,
      outputShapes: [],
      provider: e.provider,
      durationUs: 0,
      outputBytes: 0,
      activationBytes: 0,
      parameterBytes: e.parameterBytes,
    });
    run.executions += 1;
    run.outputShapes = e.outputShapes;
    run.provider = e.provider;
    run.durationUs += e.durationUs;
    run.outputBytes += e.outputBytes;
    run.activationBytes += e.activationBytes;
  }

  result(): JoinedKernels {
    return {
      nodes: this.nodes,
      shapes: this.shapes,
      order: this.order,
      otherKernels: [...this.other.values()],
    };
  }
}

/** Joins the events of a whole parsed profile (a JSON array). */
export function joinKernels(profile: unknown[], idOf: (name: string) => string | undefined): JoinedKernels {
  const join = new KernelJoin(idOf);
  for (const raw of profile) {
    const e = toKernelEvent(raw);
    if (e) join.add(e);
  }
  return join.result();
}
