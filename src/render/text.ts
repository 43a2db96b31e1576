// The terminal view of one report: how execution was decided when it was not traced, a torchsummary-like
// table (by default the layer calls that hold parameters, summed into their module at a depth, as
// torchinfo; every call with allNodes: layer-rows.ts), and a totals block that explains where the three
// counts part ways.
import type { Report } from '../report/report.ts';
import { formatCompact, formatCount, formatMegabytes, formatShape, traceLine } from '../report/format.ts';
import { escapeUnsafe, plainLines, plainText } from '../report/plain-line.ts';
import { byteSize } from '../onnx/dtype.ts';
import {
  layerRows,
  leftOutParts,
  markText,
  rowName,
  rowType,
  type LayerRowOptions,
  type LayerTable,
} from './layer-rows.ts';

export interface TextOptions extends LayerRowOptions {
  width?: number;
}

export function renderText(report: Report, options: TextOptions = {}): string {
  const table = layerRows(report, options);
  // Each row starts with its number: a name never begins a line, where a runner's log could take it for
  // a workflow command (`::warning::...`).
  const rows: string[][] = table.rows.map((row, i) => [
    String(i + 1),
    rowName(row),
    rowType(row),
    row.outputShapes ? row.outputShapes.map(formatShape).join(' ') : '-',
    formatCount(row.params),
    markText(row.mark),
  ]);
  // Names come from the model: one line each, of a width a terminal can show (a 4096-character name,
  // the most a report holds, padded into every row of a 3,000-row table would need tens of megabytes).
  for (const row of rows) for (let i = 0; i < row.length; i++) row[i] = cell(row[i]!);
  const grid = textColumns(['#', 'Layer (call)', 'Type', 'Output Shape', 'Param #', ''], rows, [0, 4]);
  const width = Math.max(options.width ?? 0, grid.header.length, 64);
  const out: string[] = [
    ...traceWarning(report),
    '-'.repeat(width),
    grid.header,
    '='.repeat(width),
    ...grid.rows,
  ];
  const left = leftOut(table);
  if (left) out.push(left);
  out.push('='.repeat(width));

  const c = report.counts;
  const totals: [string, string][] = [
    ['Declared params', formatCount(c.declared)],
    ['Unique params (used)', formatCount(c.unique)],
    ['Summary-style params', formatCount(c.summary)],
  ];
  if (c.trainable !== null && c.frozen !== null) {
    totals.push(
      ['Trainable params', formatCount(c.trainable)],
      ['Non-trainable params', formatCount(c.frozen)],
    );
  }
  totals.push(['Buffers', formatCount(c.buffers)], ['Params size (MB)', formatMegabytes(c.parameterBytes)]);
  totals.push(...memoryRows(report));
  const labelWidth = Math.max(...totals.map(([l]) => l.length));
  for (const [label, value] of totals) out.push(`${`${label}:`.padEnd(labelWidth + 2)}${value}`);
  out.push('-'.repeat(width));

  out.push(sharingLine(report), unusedLine(report));
  if (report.duplicates.length > 0) {
    for (const d of report.duplicates) {
      out.push(
        `Stored twice: ${d.names.map(escapeUnsafe).join(' = ')}${d.transposed ? ' (transposed)' : ''}, ${formatCount(d.numel)} params, counted once (${formatCount(d.bytesWasted)} bytes wasted)`,
      );
    }
  }
  if (report.valueMerged.length > 0) {
    out.push(
      `Value-merged constants (exporter artifact, not sharing): ${report.valueMerged.map((v) => `${escapeUnsafe(v.name)} (${formatCount(v.numel)}, read by ${v.callNames.length} calls)`).join(', ')}`,
    );
  }
  out.push(
    `Source: ${report.source === 'manifest' ? 'PyTorch manifest embedded in the model' : 'ONNX graph only'}; execution: ${escapeUnsafe(traceLine(report))}`,
  );
  for (const note of report.notes) out.push(`Note: ${escapeUnsafe(note)}`);
  out.push('-'.repeat(width));
  // No control, bidirectional or invisible character from a name reaches the terminal or a log, and no
  // line starts with `::` or holds `##[` (src/report/plain-line.ts); names were escaped where they were
  // put, this is the last resort.
  return `${plainLines(out.join('\n'))}\n`;
}

/**
 * What the top of the report says about how execution was decided: a warning when the trace failed (the
 * counts below look traced but are not), one line when the report is static by choice, nothing when traced.
 */
function traceWarning(report: Report): string[] {
  const t = report.trace;
  if (t.mode === 'onnxruntime') return [];
  if (t.mode === 'static') return [`Static analysis, ${escapeUnsafe(t.note)}`];
  return [
    'WARNING: the trace failed, so these counts are static, not what a run executes.',
    `  Why: ${plainText(t.error, 1000)}`,
    `  Static: ${STATIC_COUNTS}; declared is not affected.`,
    `  To trace: ${CLI_FIX}; --trace makes a failed trace an error (exit 2; in the action: trace: required).`,
  ];
}

/** Which counts a static analysis decides from the graph, and how (true of every static report). */
const STATIC_COUNTS =
  'unique, summary-style, executions, output shapes, shared and not-executed are decided from the graph, not from a run: every node that reaches a graph output counts as executed, each Loop body once, and which If branch runs is not known';

/** What makes a trace run, in CLI options. */
const CLI_FIX =
  'give the inputs it needs (--input NAME=1x3x224x224, --dim NAME=N, --value NAME=V, --input-file NAME=FILE.npy) or more time (--trace-timeout SECONDS)';

/** The line under the rows that says which calls the table leaves out or sums, and how to see them. */
function leftOut(table: LayerTable): string | undefined {
  const parts = leftOutParts(table, ' (--depth N)');
  if (parts.length === 0) return undefined;
  return `… ${parts.join('; ')}; --all-nodes shows every layer call`;
}

/**
 * Columns of a plain-text table, as the analyze table lays them out: each as wide as its widest cell,
 * three spaces apart, the columns in `right` aligned right (numbers), no trailing spaces. Cells must be
 * plain text already (one line, escaped).
 */
export function textColumns(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): { header: string; rows: string[] } {
  // A reduce, not Math.max(...rows): a spread of 300,000 rows overflows the call stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return { header: line(header), rows: rows.map(line) };
}

/** The most inputs the footer names one by one (a model may have hundreds). */
const INPUTS_SHOWN = 8;

/**
 * The torchsummary-like footer: the inputs the trace fed (name, dtype, shape) and an estimate of memory
 * from what the report knows: parameters, buffers, the inputs and, where the run's shapes measured them,
 * the peak of activations alive at once; otherwise the label says activations are not measured rather than
 * calling the sum a total. A static report fed no inputs: none counted. Then the run's MACs.
 */
function memoryRows(report: Report): [string, string][] {
  const rows: [string, string][] = [];
  const parts: [string, number][] = [['parameters', report.counts.parameterBytes]];
  if (report.buffers.length > 0) {
    const bytes = report.buffers.reduce((n, b) => n + byteSize(b.dtype, b.numel), 0);
    rows.push(['Buffers size (MB)', formatMegabytes(bytes)]);
    parts.push(['buffers', bytes]);
  }
  if (report.trace.mode === 'onnxruntime') {
    const inputs = report.trace.inputs;
    const bytes = inputs.reduce(
      (n, i) =>
        n +
        byteSize(
          i.dtype,
          i.shape.reduce((a, d) => a * d, 1),
        ),
      0,
    );
    const named = inputs
      .slice(0, INPUTS_SHOWN)
      .map((i) => `${plainText(i.name, 80)} ${escapeUnsafe(i.dtype)} ${formatShape(i.shape)}`);
    if (inputs.length > INPUTS_SHOWN) named.push(`… ${formatCount(inputs.length - INPUTS_SHOWN)} more`);
    rows.unshift(['Input shapes', named.length > 0 ? named.join(', ') : 'none (the model takes no input)']);
    rows.push(['Input size (MB)', formatMegabytes(bytes)]);
    parts.push(['inputs', bytes]);
  } else {
    const why = report.trace.mode === 'failed' ? 'the trace failed' : 'not traced';
    rows.unshift(['Input shapes', `not known (${why})`]);
  }
  // Activations from the run's own shapes (src/cost); static shapes leave tensors out, so no total then.
  const cost = report.cost;
  const measured = cost?.shapes === 'traced' && cost.memory.unknownTensors === 0;
  if (cost && measured) {
    rows.push([
      'Activations (MB)',
      `${formatMegabytes(cost.memory.peakActivationBytes)} at peak, ${formatMegabytes(cost.memory.activationBytes)} written in one run`,
    ]);
    // The peak counts the fed inputs while they are alive: they are in it, not beside it.
    const inputs = parts.findIndex(([p]) => p === 'inputs');
    if (inputs >= 0) parts.splice(inputs, 1);
    parts.push(['peak activations with inputs', cost.memory.peakActivationBytes]);
  }
  const total = parts.reduce((n, [, b]) => n + b, 0);
  const unknown = report.trace.mode === 'onnxruntime' ? '' : ', inputs not known';
  rows.push([
    'Estimated size (MB)',
    `${formatMegabytes(total)} (${parts.map(([p]) => p).join(' + ')}${unknown}${measured ? '' : '; activations not measured'})`,
  ]);
  if (cost) rows.push(['MACs (one run)', macsLine(cost)]);
  return rows;
}

/** The MAC total, where its shapes came from, and what it leaves out (never a silent zero). */
function macsLine(cost: NonNullable<Report['cost']>): string {
  const from = cost.shapes === 'traced' ? 'traced shapes' : 'static shapes';
  const left = cost.uncounted
    .slice(0, 5)
    .map((u) => `${escapeUnsafe(u.domain ? `${u.domain}:${u.opType}` : u.opType)} x${u.nodes} (${u.reason})`);
  if (cost.uncounted.length > 5) left.push(`… ${cost.uncounted.length - 5} more`);
  return `${formatCount(cost.macs)} (${from}${left.length > 0 ? `; not counted: ${left.join(', ')}` : ''})`;
}

function cell(text: string): string {
  return plainText(text, 160);
}

function sharingLine(report: Report): string {
  const gap = report.counts.summary - report.counts.unique;
  const named = report.shared.map(
    (s) => `${escapeUnsafe(s.name)} (${formatCount(s.numel)} x ${s.calls} calls)`,
  );
  const merged = report.valueMerged.map(
    (v) => `${escapeUnsafe(v.name)} (value-merged, ${v.callNames.length} calls)`,
  );
  // Statically, summary-style follows one branch of each If, so it can fall below unique.
  const conditional = report.parameters.filter((p) => p.conditional);
  const branches =
    conditional.length > 0
      ? `; ${formatCount(conditional.reduce((n, p) => n + p.numel, 0))} params are used only in some If branches, and summary-style counts one branch of each If`
      : '';
  const counted = `Summary-style - unique = ${formatCount(gap)}${gap === 0 ? '' : ` (${formatCompact(gap)})`}`;
  if (named.length === 0 && merged.length === 0)
    return `${counted}: no parameter is used by more than one call${branches}.`;
  return `${counted}, counted more than once: ${[...named, ...merged].join(', ')}${branches}`;
}

function unusedLine(report: Report): string {
  const gap = report.counts.declared - report.counts.unique;
  if (report.unused.length === 0) return 'Declared - unique = 0: every declared parameter is used.';
  const named = report.unused.map((u) => `${escapeUnsafe(u.name)} (${formatCount(u.numel)}, ${u.reason})`);
  return `Declared - unique = ${formatCount(gap)} (${formatCompact(gap)}), declared but unused: ${named.join(', ')}`;
}
