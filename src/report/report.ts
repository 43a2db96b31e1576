// The report: one typed object that flows from the analysis through comparison and rendering, and is
// also paramtrace's JSON format (`paramtrace analyze --json`). Counts are numbers of elements. The types
// are derived from the report's schema (report-schema.ts), the one definition of the format; only types
// are imported from it, so that using a report never loads the schema library.
import type { Static } from '@sinclair/typebox';
import type {
  BufferSchema,
  CountGapSchema,
  CountsSchema,
  DimSchema,
  DuplicateStorageSchema,
  LayerCallSchema,
  ParameterSchema,
  PhaseTimingSchema,
  PyTorchDifferenceSchema,
  ReportCostSchema,
  ReportSchema,
  SharedParameterSchema,
  TraceInfoSchema,
  UnusedParameterSchema,
  ValueMergedConstantSchema,
} from './report-schema.ts';
import type { UNUSED_REASONS } from './lists.ts';

export { METRICS, SCHEMA_VERSION, type Metric } from './lists.ts';

export type UnusedReason = (typeof UNUSED_REASONS)[number];
export type Dim = Static<typeof DimSchema>;
export type Report = Static<typeof ReportSchema>;
/** MACs per layer call and activation memory of one run (src/cost). */
export type ReportCost = Static<typeof ReportCostSchema>;
export type CallCost = ReportCost['calls'][number];
export type UncountedOp = ReportCost['uncounted'][number];
/** How much higher PyTorch's count is than the report's (negative: lower); min = max when known exactly. */
export type CountGap = Static<typeof CountGapSchema>;
export type PyTorchDifference = Static<typeof PyTorchDifferenceSchema>;
/** One phase of the analysis, its time and peak memory. */
export type PhaseTiming = Static<typeof PhaseTimingSchema>;
export type Counts = Static<typeof CountsSchema>;
export type TraceInfo = Static<typeof TraceInfoSchema>;
export type Parameter = Static<typeof ParameterSchema>;
export type Buffer = Static<typeof BufferSchema>;
export type SharedParameter = Static<typeof SharedParameterSchema>;
export type UnusedParameter = Static<typeof UnusedParameterSchema>;
export type DuplicateStorage = Static<typeof DuplicateStorageSchema>;
/** One constant that the exporter merged by value and many unrelated layers read: not real sharing. */
export type ValueMergedConstant = Static<typeof ValueMergedConstantSchema>;
export type LayerCall = Static<typeof LayerCallSchema>;
