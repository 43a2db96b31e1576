// The trace stage: run the model once and report what executed. See trace-model.ts.
export {
  traceModel,
  startTrace,
  startTraceEarly,
  cancelEarlyTrace,
  DEFAULT_TIMEOUT_MS,
  type PendingTrace,
} from './trace-model.ts';
export type { TraceOptions, TraceDevice } from './options.ts';
export { parseInputShapeOption, parseDimOption, parseInputFileOption, parseValueOption } from './options.ts';
export { TraceError, TraceInputError, TraceUsageError, type TraceFailure } from './errors.ts';
export { readNpy, readNpyHeader, type NpyArray, type NpyHeader, type NpyDtype } from './npy.ts';
export {
  readTensorProtoFile,
  decodeTensorProto,
  type TensorProtoArray,
  type TensorProtoDtype,
} from './tensor-proto.ts';
export type { Trace, NodeRun, NodeShapes, TensorType } from './trace.ts';
