// The comparison, defined once: this TypeBox schema is the JSON Schema of `paramtrace compare --json` and
// of the comparison in the action's report file, and comparison.ts derives the TypeScript types from it.
// scripts/gen-report-validator.ts compiles it ahead of time, with the report's.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { COMPARISON_SCHEMA_VERSION, COUNT_NAMES, METRICS, SOURCES } from '../report/lists.ts';
import {
  count,
  CountsSchema,
  DuplicateStorageSchema,
  list,
  name,
  nullable,
  object,
  oneOf,
  shape,
  SharedParameterSchema,
  signed,
  UnusedParameterSchema,
} from '../report/report-schema.ts';

export const COMPARISON_ID = 'paramtrace-comparison';

const finite = Type.Number();

export const DeltaSchema = Type.Object(
  {
    base: nullable(finite),
    head: nullable(finite),
    /** head - base; null when either is unknown. */
    delta: nullable(finite),
    /** Percent of base; null when base is 0 or unknown. */
    percent: nullable(finite),
  },
  { $id: 'paramtrace-comparison-delta', additionalProperties: false },
);

export const ParameterChangeSchema = object({
  name,
  baseNumel: count,
  headNumel: count,
  baseShape: shape,
  headShape: shape,
});

export const ModuleDeltaSchema = object({
  /** Top-level module (first component of the parameter names), or the deeper path for the largest changes. */
  name,
  base: count,
  head: count,
  delta: signed,
});

const metric = oneOf(METRICS);

export const ThresholdsSchema = object({
  /** Fail when the watched count grows by more than this percent of base. */
  maxGrowthPercent: Type.Optional(finite),
  /** Fail when the watched count grows by more than this many parameters. */
  maxGrowthAbsolute: Type.Optional(finite),
  /** Fail when the watched count of head exceeds this. */
  maxParams: Type.Optional(finite),
  failOnNewShared: Type.Optional(Type.Boolean()),
  failOnNewUnused: Type.Optional(Type.Boolean()),
  /** Which count the growth thresholds watch; 'unique' (the true count) by default. */
  metric: Type.Optional(metric),
});

/**
 * One threshold that failed, as data (src/render/verdict.ts words it). `base` and `head` are the watched
 * count (`metric`) of each side, `limit` the threshold's value.
 */
export const FailureSchema = Type.Union([
  /** There was no real base (its build failed): `reason` says why. */
  object({ kind: Type.Literal('base-unavailable'), reason: name }),
  /** Grew by more than `limit` percent of base. */
  object({ kind: Type.Literal('growth-percent'), metric, base: count, head: count, limit: finite }),
  /** Grew from 0 under a percentage limit alone, which cannot allow any growth from 0. */
  object({ kind: Type.Literal('growth-from-zero'), metric, head: count, limit: finite }),
  /** Grew by more than `limit` parameters. */
  object({ kind: Type.Literal('growth-absolute'), metric, base: count, head: count, limit: finite }),
  /** head is over `limit`. */
  object({ kind: Type.Literal('max-params'), metric, head: count, limit: finite }),
  /** Parameters shared in head and not in base (fail-on-new-shared): as many as `newShared` may hold. */
  object({ kind: Type.Literal('new-shared'), names: list(name) }),
  /** Parameters unused in head and not in base (fail-on-new-unused). */
  object({ kind: Type.Literal('new-unused'), names: list(name) }),
]);

export const VerdictSchema = object({
  /** No threshold failed. */
  pass: Type.Boolean(),
  /** The count the growth thresholds watched. */
  metric,
  /** Each threshold that failed, in the order they are checked. */
  failures: list(FailureSchema, 1000),
});

/** How a side's counts were decided (the report's `trace`, without its inputs and notes). */
export const HeaderTraceSchema = Type.Union([
  /** Static by choice (not traced). */
  object({ mode: Type.Literal('static') }),
  object({ mode: Type.Literal('onnxruntime'), onnxruntimeVersion: name, device: name }),
  /** Static after a trace that failed, and why it failed. */
  object({ mode: Type.Literal('failed'), error: name }),
]);

export const ReportHeaderSchema = Type.Object(
  { file: name, source: oneOf(SOURCES), trace: HeaderTraceSchema, counts: CountsSchema },
  { $id: 'paramtrace-comparison-side', additionalProperties: false },
);

/** A schema with an `$id`, where another holds it: checked by one generated function, not a copy each time. */
const refTo = <T extends TSchema>(schema: T) => {
  if (!schema.$id) throw new Error('a schema referred to needs an $id');
  return Type.Unsafe<Static<T>>({ $ref: schema.$id });
};
const Delta = refTo(DeltaSchema);
const ReportHeader = refTo(ReportHeaderSchema);

const Numelled = object({ name, numel: count, shape });

export const ComparisonSchema = Type.Object(
  {
    schemaVersion: Type.Literal(COMPARISON_SCHEMA_VERSION),
    base: ReportHeader,
    head: ReportHeader,
    counts: object(
      Object.fromEntries(COUNT_NAMES.map((c) => [c, Delta])) as Record<
        (typeof COUNT_NAMES)[number],
        typeof Delta
      >,
    ),
    added: list(Numelled),
    removed: list(Numelled),
    resized: list(ParameterChangeSchema),
    modules: list(ModuleDeltaSchema),
    newShared: list(SharedParameterSchema),
    resolvedShared: list(SharedParameterSchema),
    newUnused: list(UnusedParameterSchema),
    resolvedUnused: list(UnusedParameterSchema),
    newDuplicates: list(DuplicateStorageSchema),
    resolvedDuplicates: list(DuplicateStorageSchema),
    thresholds: ThresholdsSchema,
    verdict: VerdictSchema,
  },
  { $id: COMPARISON_ID, additionalProperties: false },
);

/** Every schema of the comparison with an `$id`, for the generator to compile together. */
export const COMPARISON_SCHEMAS = [DeltaSchema, ReportHeaderSchema, ComparisonSchema];
