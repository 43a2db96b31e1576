// Two reports (base branch, head of a pull request) → what changed, and whether the change passes the
// thresholds. The comparison is also the JSON of `paramtrace compare --json`.
import type { Counts, DuplicateStorage, Report, SharedParameter, UnusedParameter } from '../report/report.ts';

export type CountName = keyof Counts;

/** Every count, in the order tables show them. */
export const COUNT_NAMES = [
  'declared',
  'unique',
  'summary',
  'trainable',
  'frozen',
  'buffers',
  'parameterBytes',
] as const satisfies readonly CountName[];
// Compile-time check that COUNT_NAMES lists every CountName.
const _everyCount: [Exclude<CountName, (typeof COUNT_NAMES)[number]>] extends [never] ? true : never = true;
void _everyCount;

export interface Delta {
  base: number | null;
  head: number | null;
  /** head - base; null when either is unknown. */
  delta: number | null;
  /** Percent of base; null when base is 0 or unknown. */
  percent: number | null;
}

export interface ParameterChange {
  name: string;
  baseNumel: number;
  headNumel: number;
  baseShape: number[];
  headShape: number[];
}

export interface ModuleDelta {
  /** Top-level module (first component of the parameter names), or the deeper path for the largest changes. */
  name: string;
  base: number;
  head: number;
  delta: number;
}

export interface Thresholds {
  /** Fail when the watched count grows by more than this percent of base. */
  maxGrowthPercent?: number | undefined;
  /** Fail when the watched count grows by more than this many parameters. */
  maxGrowthAbsolute?: number | undefined;
  /** Fail when the watched count of head exceeds this. */
  maxParams?: number | undefined;
  failOnNewShared?: boolean | undefined;
  failOnNewUnused?: boolean | undefined;
  /** Which count the growth thresholds watch; 'unique' (the true count) by default. */
  metric?: 'unique' | 'declared' | 'summary' | undefined;
}

export interface Verdict {
  pass: boolean;
  /** One line a reviewer reads in a second: "✅ pass: +0.3% unique parameters (limit 5%)". */
  headline: string;
  /** Each threshold that failed, in words. */
  failures: string[];
}

export interface Comparison {
  schemaVersion: 1;
  base: ReportHeader;
  head: ReportHeader;
  counts: Record<CountName, Delta>;
  added: { name: string; numel: number; shape: number[] }[];
  removed: { name: string; numel: number; shape: number[] }[];
  resized: ParameterChange[];
  modules: ModuleDelta[];
  newShared: SharedParameter[];
  resolvedShared: SharedParameter[];
  newUnused: UnusedParameter[];
  resolvedUnused: UnusedParameter[];
  newDuplicates: DuplicateStorage[];
  resolvedDuplicates: DuplicateStorage[];
  thresholds: Thresholds;
  verdict: Verdict;
}

export interface ReportHeader {
  file: string;
  source: Report['source'];
  /** How execution was decided, in words (`traced with onnxruntime 1.30.0 on cpu`, `static (trace failed: ...)`). */
  trace: string;
  /** The same as data: `failed` is a static fall-back after a trace that failed, `static` is static by choice. */
  traceMode: Report['trace']['mode'];
  /** Why the trace failed (traceMode `failed`); null otherwise. */
  traceError: string | null;
  counts: Counts;
}
