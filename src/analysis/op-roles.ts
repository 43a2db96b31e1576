// What a constant at a given operator input is: a weight, a quantized weight, a buffer or metadata,
// looked up in the table generated from ONNX's own operator schemas (scripts/gen_op_schemas.py).
import { OP_SCHEMAS, type InputRole, type OpSchemaEntry } from './op-schemas.generated.ts';

export type { InputRole };

/** Control-flow operators: their own inputs are conditions, trip counts and loop state, never weights. */
const CONTROL_FLOW = new Set(['If', 'Loop', 'Scan']);

export interface RoleLookup {
  role: InputRole;
  /** False when the operator has no schema here (a custom domain): the role is a fallback. */
  known: boolean;
}

export function inputRole(
  domain: string,
  opType: string,
  opsets: Record<string, number>,
  index: number,
): RoleLookup {
  if (domain === '' && CONTROL_FLOW.has(opType)) return { role: 'meta', known: true };
  const key = domain === '' || domain === 'ai.onnx' ? opType : `${domain}:${opType}`;
  // Own keys only: an operator named `constructor` or `toString` must not find Object's.
  const entries = Object.hasOwn(OP_SCHEMAS, key) ? OP_SCHEMAS[key] : undefined;
  const opset = (Object.hasOwn(opsets, domain) ? opsets[domain] : opsets['']) ?? Number.MAX_SAFE_INTEGER;
  const entry = pickVersion(entries, opset);
  if (!entry) return { role: 'weight', known: false };
  const last = entry.inputs.length - 1;
  const role = index <= last ? entry.inputs[index] : entry.variadic ? entry.inputs[last] : undefined;
  return { role: role ?? 'meta', known: true };
}

function pickVersion(
  entries: readonly OpSchemaEntry[] | undefined,
  opset: number,
): OpSchemaEntry | undefined {
  if (!entries || entries.length === 0) return undefined;
  let chosen: OpSchemaEntry | undefined;
  for (const e of entries) if (e.since <= opset) chosen = e;
  return chosen ?? entries[0];
}
