// The fixed lists and versions of paramtrace's JSON formats (the report, the comparison), each written once: the schema (report-schema.ts) checks
// against them, the types derive from them, and the CLI and the action parse their options with them.
// Plain values, so that reading them loads no schema library.

/** The report's format version (`schemaVersion`). */
export const SCHEMA_VERSION = 1;

/**
 * The comparison's format version. 2: the verdict and the trace of each side are data (version 1 had
 * them in words: `verdict.headline`, `verdict.failures`, `trace`); the renderers word them.
 */
export const COMPARISON_SCHEMA_VERSION = 2;

/** The counts a threshold can watch: the CLI's `--metric`, the action's `metric` input. */
export const METRICS = ['unique', 'declared', 'summary'] as const;
export type Metric = (typeof METRICS)[number];

/** Why a declared parameter is not used (docs/counting.md, "Unused parameters"). */
export const UNUSED_REASONS = ['not-exported', 'orphan', 'dead', 'not-executed'] as const;

/** What the exporter did that makes PyTorch's counts differ from a graph-only report's. */
export const DIFFERENCE_CAUSES = [
  'batchnorm-folded',
  'clones-merged',
  'data-operand',
  'lookup-folded',
  'values-merged',
] as const;

/** Where the declared parameters come from. */
export const SOURCES = ['manifest', 'graph'] as const;

/** Every count of a report (`counts`), in the order tables show them. */
export const COUNT_NAMES = [
  'declared',
  'unique',
  'summary',
  'trainable',
  'frozen',
  'buffers',
  'parameterBytes',
  'macs',
] as const;

/** Whether `value` is one of `list` (narrowing it to the list's type). */
export function isOneOf<const T extends string>(list: readonly T[], value: string): value is T {
  return (list as readonly string[]).includes(value);
}

/** `['auto', 'cpu', 'cuda']` → `auto, cpu or cuda`, for a message that says what is allowed. */
export function listWords(list: readonly string[]): string {
  return list.length < 2 ? (list[0] ?? '') : `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
}
