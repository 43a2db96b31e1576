// A layer call as the report lists it: its type (the module's class, else its operators), its parameters
// and the shapes it produced (traced, else from the graph's value infos).
import type { OnnxModel } from '../onnx/model.ts';
import type { LayerCall } from '../report/report.ts';
import type { Trace } from '../trace/trace.ts';
import type { NodeFacts } from './graph-walk.ts';
import type { CallFacts } from './types.ts';

export function layerCall(
  c: CallFacts,
  numelOf: Map<string, number>,
  model: OnnxModel,
  trace: Trace | undefined,
  moduleClasses: Map<string, string>,
): LayerCall {
  const compute = c.nodes.filter((n) => !n.folds && n.node.opType !== 'Constant');
  const opTypes = [...new Set(compute.map((n) => n.node.opType))];
  const parameters = [...c.params];
  return {
    name: c.name,
    // A second call of module `conv1` is named `conv1_1` by the exporter.
    type: moduleClasses.get(c.name) ?? moduleClasses.get(c.name.replace(/_\d+$/, '')) ?? opTypes.join('+'),
    opTypes,
    graph: c.graph,
    parameters,
    params: sum(parameters.map((p) => numelOf.get(p) ?? 0)),
    outputShapes: outputShapes(compute, model, trace),
    live: c.live,
    executions: c.executions,
  };
}

/** Shapes of the values the call's last node produces: from the trace, else from the graph's value infos. */
function outputShapes(
  nodes: NodeFacts[],
  model: OnnxModel,
  trace: Trace | undefined,
): LayerCall['outputShapes'] {
  const last = nodes.at(-1);
  if (!last) return null;
  const traced = trace?.nodes[last.node.id]?.outputShapes;
  if (traced && traced.length > 0) return traced;
  const infos = valueInfos(model);
  const shapes = last.node.outputs.map((o) => infos.get(o)?.shape ?? null);
  return shapes.every((s) => s !== null) ? (shapes as LayerCall['outputShapes']) : null;
}

const valueInfoCache = new WeakMap<
  OnnxModel,
  Map<string, { shape: (number | string | null)[] | undefined }>
>();
function valueInfos(model: OnnxModel): Map<string, { shape: (number | string | null)[] | undefined }> {
  let map = valueInfoCache.get(model);
  if (!map) {
    map = new Map();
    const g = model.graph;
    for (const v of [...g.valueInfo, ...g.outputs, ...g.inputs])
      if (v.shape) map.set(v.name, { shape: v.shape });
    valueInfoCache.set(model, map);
  }
  return map;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
