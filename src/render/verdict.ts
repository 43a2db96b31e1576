// The comparison's verdict in words: the comparison holds it as data (which thresholds failed, with the
// figures), and every place that shows it (the comment, the job summary, the terminal, the commit status,
// the action's outputs) words it here, the same way. Plain text: each caller escapes it for where it goes.
import type { Comparison, Failure, ReportHeader } from '../compare/comparison.ts';
import { formatCount, formatPercent, formatSigned } from '../report/format.ts';

/** One line a reviewer reads in a second: "✅ pass: +0.3% unique parameters (limit 5%)". */
export function verdictHeadline(c: Comparison): string {
  const failures = c.verdict.failures.map(failureSentence);
  if (!c.verdict.pass) return `❌ fail: ${failures.join('; ')}`;
  const metric = c.verdict.metric;
  const base = c.counts[metric].base ?? 0;
  const head = c.counts[metric].head ?? 0;
  const growth = head - base;
  const change =
    growth === 0
      ? `${metric} parameters unchanged (${formatCount(head)})`
      : `${formatSigned(growth)} ${metric} parameters (${formatPercent(growth, base)}, ${formatCount(base)} → ${formatCount(head)})`;
  const findings = [
    c.newShared.length > 0 ? `${c.newShared.length} new shared` : '',
    c.newUnused.length > 0 ? `${c.newUnused.length} new unused` : '',
  ].filter(Boolean);
  return `✅ pass: ${change}${findings.length > 0 ? `; ${findings.join(', ')}` : ''}`;
}

/** Each threshold that failed, in words, in the order they were checked. */
export function failureSentences(c: Comparison): string[] {
  return c.verdict.failures.map(failureSentence);
}

export function failureSentence(f: Failure): string {
  switch (f.kind) {
    case 'base-unavailable':
      return f.reason;
    case 'growth-percent':
      return `${f.metric} parameters grew ${formatPercent(f.head - f.base, f.base)} (${formatSigned(f.head - f.base)}), more than the ${f.limit}% allowed`;
    case 'growth-from-zero':
      return `${f.metric} parameters grew from 0 to ${formatCount(f.head)}; a percentage limit cannot allow that`;
    case 'growth-absolute':
      return `${f.metric} parameters grew by ${formatSigned(f.head - f.base)}, more than the ${formatCount(f.limit)} allowed`;
    case 'max-params':
      return `${f.metric} parameters are ${formatCount(f.head)}, over the limit of ${formatCount(f.limit)}`;
    case 'new-shared':
      return `new shared parameter${f.names.length > 1 ? 's' : ''}: ${f.names.join(', ')}`;
    case 'new-unused':
      return `new unused parameter${f.names.length > 1 ? 's' : ''}: ${f.names.join(', ')}`;
  }
}

/** Why a side's trace failed; null when it did not fail (traced, or static by choice). */
export function traceError(side: ReportHeader): string | null {
  return side.trace.mode === 'failed' ? side.trace.error : null;
}
