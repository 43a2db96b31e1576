// The JSON Schema of the report (src/report/report.ts): reports read back from files and artifacts are
// untrusted and must match it exactly, with bounded strings and lists.
import { MAX_STRING } from './clip.ts';
const name = { type: 'string', maxLength: MAX_STRING } as const;
const count = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const names = { type: 'array', items: name, maxItems: 100_000 } as const;
const shape = { type: 'array', items: count, maxItems: 64 } as const;
const dim = { anyOf: [count, name, { type: 'null' }] } as const;
const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});
const list = (items: unknown, maxItems = 1_000_000) => ({ type: 'array', items, maxItems });
const signed = {
  type: 'integer',
  minimum: -Number.MAX_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
} as const;
const gap = object({ min: signed, max: signed });

const REPORT_PROPERTIES = {
  schemaVersion: { const: 1 },
  tool: object({ name: { const: 'paramtrace' }, version: name }),
  model: object({
    file: name,
    sizeBytes: count,
    producer: name,
    producerVersion: name,
    irVersion: count,
    opsets: { type: 'object', additionalProperties: count, maxProperties: 1000 },
  }),
  source: { enum: ['manifest', 'graph'] },
  trace: {
    type: 'object',
    required: ['mode', 'note'],
    properties: {
      mode: { enum: ['static', 'onnxruntime', 'failed'] },
      note: name,
      error: name,
      device: name,
      deviceNote: name,
      onnxruntimeVersion: name,
      inputs: list(object({ name, dtype: name, shape, from: name }), 1000),
      fallbackNodes: names,
    },
    additionalProperties: false,
  },
  counts: object({
    declared: count,
    unique: count,
    summary: count,
    trainable: { anyOf: [count, { type: 'null' }] },
    frozen: { anyOf: [count, { type: 'null' }] },
    buffers: count,
    parameterBytes: count,
  }),
  bytesByDtype: { type: 'object', additionalProperties: count, maxProperties: 64 },
  parameters: list(
    object(
      {
        name,
        aliases: names,
        storedAs: names,
        dtype: name,
        shape,
        numel: count,
        calls: count,
        used: { type: 'boolean' },
        trainable: { type: ['boolean', 'null'] },
        conditional: { const: true },
        branches: names,
      },
      // `conditional` and `branches` are optional: only static reports of If models have them.
      ['name', 'aliases', 'storedAs', 'dtype', 'shape', 'numel', 'calls', 'used', 'trainable'],
    ),
  ),
  buffers: list(object({ name, dtype: name, shape, numel: count })),
  shared: list(object({ name, numel: count, calls: count, callNames: names, extraInSummary: count })),
  unused: list(
    object({
      name,
      numel: count,
      reason: { enum: ['not-exported', 'orphan', 'dead', 'not-executed'] },
      detail: name,
    }),
  ),
  duplicates: list(object({ names, numel: count, transposed: { type: 'boolean' }, bytesWasted: count })),
  valueMerged: list(object({ name, numel: count, callNames: names, note: name })),
  layers: list(
    object({
      name,
      type: name,
      opTypes: names,
      graph: name,
      parameters: names,
      params: count,
      outputShapes: { anyOf: [{ type: 'null' }, list({ type: 'array', items: dim, maxItems: 64 }, 1000)] },
      live: { type: 'boolean' },
      executions: count,
    }),
  ),
  notes: list(name, 1000),
  differences: list(
    object({
      cause: {
        enum: ['batchnorm-folded', 'clones-merged', 'data-operand', 'lookup-folded', 'values-merged'],
      },
      tensors: names,
      declared: gap,
      unique: gap,
      summary: gap,
      note: name,
    }),
    1000,
  ),
  timings: list(
    object({
      phase: name,
      ms: { type: 'number', minimum: 0, maximum: 1e12 },
      peakRssBytes: count,
    }),
    64,
  ),
};

/** `timings` and `differences` are optional: reports written before they existed stay valid. */
export const REPORT_SCHEMA = object(
  REPORT_PROPERTIES,
  Object.keys(REPORT_PROPERTIES).filter((key) => key !== 'timings' && key !== 'differences'),
);
