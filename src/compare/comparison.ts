// Two reports (base branch, head of a pull request) → what changed, and whether the change passes the
// thresholds. The comparison is also the JSON of `paramtrace compare --json`; its types are derived from
// its schema (comparison-schema.ts), the one definition of that format (only types are imported from it,
// so that comparing never loads the schema library).
import type { Static } from '@sinclair/typebox';
import type { Counts } from '../report/report.ts';
import { COUNT_NAMES } from '../report/lists.ts';
import type {
  ComparisonSchema,
  DeltaSchema,
  FailureSchema,
  HeaderTraceSchema,
  ModuleDeltaSchema,
  ParameterChangeSchema,
  ReportHeaderSchema,
  ThresholdsSchema,
  VerdictSchema,
} from './comparison-schema.ts';

export { COMPARISON_SCHEMA_VERSION, COUNT_NAMES } from '../report/lists.ts';

export type CountName = keyof Counts;
// Compile-time check that COUNT_NAMES lists every CountName, and nothing else.
const _everyCount: [Exclude<CountName, (typeof COUNT_NAMES)[number]>] extends [never] ? true : never = true;
void _everyCount;
void (COUNT_NAMES satisfies readonly CountName[]);

export type Delta = Static<typeof DeltaSchema>;
export type ParameterChange = Static<typeof ParameterChangeSchema>;
export type ModuleDelta = Static<typeof ModuleDeltaSchema>;
export type Thresholds = Static<typeof ThresholdsSchema>;
/** Whether the change passes, and each threshold that failed, as data (src/render/verdict.ts words it). */
export type Verdict = Static<typeof VerdictSchema>;
export type Failure = Static<typeof FailureSchema>;
export type HeaderTrace = Static<typeof HeaderTraceSchema>;
export type ReportHeader = Static<typeof ReportHeaderSchema>;
export type Comparison = Static<typeof ComparisonSchema>;
