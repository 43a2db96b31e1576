// Pure helpers that turn a comparison into what the action reports: whether anything changed (for
// `comment: on-change`), the step outputs, and the footer line.
import type { Comparison, CountName } from '../../compare/comparison.ts';
import type { Report } from '../../report/report.ts';
import { plainLine } from '../../report/plain-line.ts';
import { verdictHeadline } from '../../render/verdict.ts';

/** Anything a reviewer would want a comment about: a count moved, a parameter changed, a finding came or went. */
export function hasChanges(c: Comparison): boolean {
  if (!c.verdict.pass) return true;
  if (Object.values(c.counts).some((d) => d.delta !== null && d.delta !== 0)) return true;
  const lists = [
    c.added,
    c.removed,
    c.resized,
    c.newShared,
    c.resolvedShared,
    c.newUnused,
    c.resolvedUnused,
    c.newDuplicates,
    c.resolvedDuplicates,
  ];
  return lists.some((l) => l.length > 0);
}

const OUTPUT_COUNTS: [CountName, string][] = [
  ['declared', 'declared'],
  ['unique', 'unique'],
  ['summary', 'summary'],
  ['trainable', 'trainable'],
  ['frozen', 'frozen'],
  ['buffers', 'buffers'],
  ['parameterBytes', 'parameter-bytes'],
  ['macs', 'macs'],
];

const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

/** Outputs of a report alone (baseline mode). */
export function reportOutputs(report: Report): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, output] of OUTPUT_COUNTS) out[output] = text(report.counts[name]);
  out['shared-count'] = String(report.shared.length);
  out['unused-count'] = String(report.unused.length);
  return out;
}

/** Outputs of a comparison: head counts, base counts, deltas and percents, the verdict. */
export function comparisonOutputs(c: Comparison): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, output] of OUTPUT_COUNTS) {
    const d = c.counts[name];
    out[output] = text(d.head);
    out[`base-${output}`] = text(d.base);
    out[`delta-${output}`] = text(d.delta);
    out[`delta-${output}-percent`] = d.percent === null ? '' : String(Math.round(d.percent * 1000) / 1000);
  }
  out['new-shared-count'] = String(c.newShared.length);
  out['new-unused-count'] = String(c.newUnused.length);
  out.verdict = c.verdict.pass ? 'pass' : 'fail';
  // Documented as one line; it names parameters, so it is escaped (src/report/plain-line.ts).
  out['verdict-headline'] = plainLine(verdictHeadline(c));
  out.changed = String(hasChanges(c));
  return out;
}

const SHA = /^[0-9a-f]{7,64}$/;

/** The comment's footer: which commits were compared and a link to the run; trusted text only. */
export function footer(options: {
  baseSha: string | null;
  baseHow?: string;
  headSha: string | null;
  runUrl: string | null;
  extra?: string[];
}): string {
  const parts: string[] = [];
  if (options.baseSha && SHA.test(options.baseSha)) {
    parts.push(`base \`${options.baseSha.slice(0, 12)}\`${options.baseHow ? ` (${options.baseHow})` : ''}`);
  }
  if (options.headSha && SHA.test(options.headSha)) parts.push(`head \`${options.headSha.slice(0, 12)}\``);
  if (options.runUrl && /^https?:\/\/[^\s()<>]+$/.test(options.runUrl))
    parts.push(`[workflow run](${options.runUrl})`);
  // One line: the renderer puts it inside <sub>. `extra` must already be escaped.
  return [...parts, ...(options.extra ?? [])].join(' · ');
}
