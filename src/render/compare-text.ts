// The terminal view of a comparison (`paramtrace compare`, without --markdown or --json): the verdict, the
// counts of base and head in the analyze table's style (text.ts), then what changed by parameter (added,
// removed, resized), the new and resolved findings, and how each side was analyzed. Pure: a string out.
// Names come from the models (or from report files): plain text, escaped, one line each.
import type { Comparison } from '../compare/comparison.ts';
import type { Report, UnusedParameter } from '../report/report.ts';
import { formatCount, formatShape, formatSigned, traceLine } from '../report/format.ts';
import { plainLines, plainText } from '../report/plain-line.ts';
import { countRows } from './count-rows.ts';
import { textColumns } from './text.ts';
import { failureSentences, traceError, verdictHeadline } from './verdict.ts';

export interface CompareTextOptions {
  /** At most this many rows per list (changes, findings, modules); the rest is counted. Default 50. */
  maxRows?: number;
  /** The reports compared: their inputs name what each side was traced with. */
  baseReport?: Report;
  headReport?: Report;
}

const STATIC_MEANS =
  'every node that reaches a graph output counts as executed, each Loop body once, and which If branch runs is not known';

export function renderCompareText(c: Comparison, options: CompareTextOptions = {}): string {
  const max = options.maxRows ?? 50;
  const out: string[] = [verdictLine(c)];
  if (c.verdict.failures.length > 1)
    for (const f of failureSentences(c)) out.push(`  - ${plainText(f, 500)}`);
  out.push(...traceWarning(c));

  const counts = countRows(c);
  const grid = textColumns(['Parameters', 'base', 'head', 'change', '%'], counts, [1, 2, 3, 4]);
  const width = Math.max(grid.header.length, 64);
  out.push('-'.repeat(width), grid.header, '='.repeat(width), ...grid.rows, '-'.repeat(width));

  const changes = [
    ...c.added.map((p) => [name(p.name), 'added', '-', formatShape(p.shape), formatSigned(p.numel)]),
    ...c.removed.map((p) => [name(p.name), 'removed', formatShape(p.shape), '-', formatSigned(-p.numel)]),
    ...c.resized.map((p) => [
      name(p.name),
      'resized',
      formatShape(p.baseShape),
      formatShape(p.headShape),
      formatSigned(p.headNumel - p.baseNumel),
    ]),
  ];
  section(
    out,
    'Parameters added, removed or resized:',
    ['Parameter', 'Change', 'Base shape', 'Head shape', 'Params'],
    changes,
    [5],
    max,
  );

  const staticHead = c.head.trace.mode === 'failed';
  const seen = (s: boolean): string => (s ? ' [static]' : '');
  section(
    out,
    'New shared parameters (used by more than one layer call; summary-style counts them once per call):',
    ['Parameter', 'Size', 'Calls', 'Used by'],
    c.newShared.map((s) => [
      name(s.name),
      formatCount(s.numel),
      formatCount(s.calls),
      `${callList(s.callNames)}${seen(staticHead)}`,
    ]),
    [2, 3],
    max,
  );
  const staticUnused = (u: UnusedParameter): boolean => staticHead && u.reason === 'not-executed';
  section(
    out,
    'New unused parameters (declared but used by no executed layer call):',
    ['Parameter', 'Size', 'Reason'],
    c.newUnused.map((u) => [
      name(u.name),
      formatCount(u.numel),
      `${plainText(u.reason, 40)}: ${plainText(u.detail, 200)}${seen(staticUnused(u))}`,
    ]),
    [2],
    max,
  );
  if (staticHead && (c.newShared.length > 0 || c.newUnused.some(staticUnused)))
    out.push(`[static]: seen only by the static fall-back, as the trace of head failed (${STATIC_MEANS}).`);
  section(
    out,
    'New duplicates (the same values stored twice, counted once):',
    ['Tensors', 'Size', 'Bytes wasted'],
    c.newDuplicates.map((d) => [
      `${callList(d.names, ' = ')}${d.transposed ? ' (transposed)' : ''}`,
      formatCount(d.numel),
      formatCount(d.bytesWasted),
    ]),
    [2, 3],
    max,
  );
  section(
    out,
    'Resolved findings (in base, not in head):',
    ['Parameter', 'Was'],
    [
      ...c.resolvedShared.map((s) => [name(s.name), `shared by ${formatCount(s.calls)} calls`]),
      ...c.resolvedUnused.map((u) => [name(u.name), `unused (${plainText(u.reason, 40)})`]),
      ...c.resolvedDuplicates.map((d) => [callList(d.names, ' = '), 'stored twice']),
    ],
    [],
    max,
  );
  section(
    out,
    'By module:',
    ['Module', 'base', 'head', 'change'],
    c.modules.map((m) => [name(m.name), formatCount(m.base), formatCount(m.head), formatSigned(m.delta)]),
    [2, 3, 4],
    max,
  );

  out.push(
    `Base: ${side(c, 'base', options.baseReport)}`,
    `Head: ${side(c, 'head', options.headReport)}`,
    '-'.repeat(width),
  );
  // Last resort, as the analyze table: no control, bidirectional or invisible character, no line that
  // starts with `::` or holds `##[` (names were escaped where they were put).
  return `${plainLines(out.join('\n'))}\n`;
}

/** The verdict in one line, worded as everywhere else (verdict.ts); it names parameters: escaped. */
function verdictLine(c: Comparison): string {
  return `paramtrace: ${plainText(verdictHeadline(c), 500)}`;
}

/** A side whose trace failed has static counts that read as traced: said before the tables. */
function traceWarning(c: Comparison): string[] {
  const failed = (['head', 'base'] as const).filter((s) => c[s].trace.mode === 'failed');
  return failed.map(
    (s) =>
      `WARNING: the trace of ${s} failed (${plainText(traceError(c[s]) ?? 'no reason given', 300)}), so its counts and findings are static: ${STATIC_MEANS}. --trace makes that an error; --input, --dim, --value and --input-file give the inputs it needs.`,
  );
}

/**
 * A titled, numbered table (each row starts with its number: a name never begins a line), at most `max`
 * rows and a line counting the rest; nothing when there are no rows. `right` counts the number column.
 */
function section(
  out: string[],
  title: string,
  header: string[],
  rows: string[][],
  right: number[],
  max: number,
): void {
  if (rows.length === 0) return;
  const shown = rows.slice(0, max).map((r, i) => [String(i + 1), ...r]);
  const grid = textColumns(['#', ...header], shown, [0, ...right]);
  out.push(title, grid.header, ...grid.rows);
  if (rows.length > max) out.push(`… and ${formatCount(rows.length - max)} more (--json lists every one)`);
  out.push('');
}

function name(text: string): string {
  return plainText(text, 120);
}

function callList(names: readonly string[], join = ', '): string {
  const shown = names.slice(0, 5).map((n) => plainText(n, 80));
  return `${shown.join(join)}${names.length > 5 ? `${join}… (${formatCount(names.length - 5)} more)` : ''}`;
}

/** File, how it was analyzed, the source of the declared parameters and the inputs a trace fed. */
function side(c: Comparison, which: 'base' | 'head', report: Report | undefined): string {
  const h = c[which];
  const parts = [
    plainText(h.file, 200),
    plainText(traceLine(h), 300),
    h.source === 'manifest' ? 'PyTorch manifest' : 'ONNX graph only',
  ];
  if (report?.trace.mode === 'onnxruntime' && report.trace.inputs.length > 0) {
    const inputs = report.trace.inputs;
    parts.push(
      `inputs ${inputs
        .slice(0, 8)
        .map((i) => `${plainText(i.name, 80)} ${formatShape(i.shape)}`)
        .join(', ')}${inputs.length > 8 ? ', …' : ''}`,
    );
  }
  return parts.join('; ');
}
