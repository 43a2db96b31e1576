// The terminal view of one report: a torchsummary-like table, one row per layer call, and a totals block
// that explains where the three counts part ways.
import type { Report } from '../report/report.ts';
import { formatCompact, formatCount, formatMegabytes, formatShape } from './format.ts';
import { clip, escapeControls } from '../report/clip.ts';

const MARK_SHARED = 'shared';
const MARK_UNUSED = 'unused';

export function renderText(report: Report, options: { width?: number } = {}): string {
  const sharedNames = new Set(report.shared.map((s) => s.name));
  const rows: string[][] = report.layers.map((layer) => [
    layer.executions > 1 ? `${layer.name} (x${layer.executions})` : layer.name,
    layer.type,
    layer.outputShapes ? layer.outputShapes.map(formatShape).join(' ') : '-',
    formatCount(layer.params),
    !layer.live
      ? `${MARK_UNUSED} (dead)`
      : layer.executions === 0
        ? `${MARK_UNUSED} (not executed)`
        : layer.parameters.some((p) => sharedNames.has(p))
          ? MARK_SHARED
          : '',
  ]);
  // Parameters that no layer call shows (not exported, orphan): one row each, so the table adds up.
  for (const u of report.unused.filter((x) => x.reason === 'not-exported' || x.reason === 'orphan')) {
    rows.push([
      u.name,
      u.reason === 'not-exported' ? '(never called)' : '(no consumer)',
      '-',
      formatCount(u.numel),
      `${MARK_UNUSED} (${u.reason})`,
    ]);
  }
  // Names come from the model: one line each, of a width a terminal can show (a 4096-character name,
  // the most a report holds, padded into every row of a 3,000-row table would need tens of megabytes).
  for (const row of rows) for (let i = 0; i < row.length; i++) row[i] = cell(row[i]!);
  const header = ['Layer (call)', 'Type', 'Output Shape', 'Param #', ''];
  // A reduce, not Math.max(...rows): a spread of 300,000 rows overflows the call stack.
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  const width = Math.max(options.width ?? 0, line(header).length, 64);
  const out: string[] = [
    '-'.repeat(width),
    line(header),
    '='.repeat(width),
    ...rows.map(line),
    '='.repeat(width),
  ];

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
  const labelWidth = Math.max(...totals.map(([l]) => l.length));
  for (const [label, value] of totals) out.push(`${`${label}:`.padEnd(labelWidth + 2)}${value}`);
  out.push('-'.repeat(width));

  out.push(sharingLine(report), unusedLine(report));
  if (report.duplicates.length > 0) {
    for (const d of report.duplicates) {
      out.push(
        `Stored twice: ${d.names.join(' = ')}${d.transposed ? ' (transposed)' : ''}, ${formatCount(d.numel)} params, counted once (${formatCount(d.bytesWasted)} bytes wasted)`,
      );
    }
  }
  if (report.valueMerged.length > 0) {
    out.push(
      `Value-merged constants (exporter artifact, not sharing): ${report.valueMerged.map((v) => `${v.name} (${formatCount(v.numel)}, read by ${v.callNames.length} calls)`).join(', ')}`,
    );
  }
  out.push(
    `Source: ${report.source === 'manifest' ? 'PyTorch manifest embedded in the model' : 'ONNX graph only'}; execution: ${traceLine(report)}`,
  );
  for (const note of report.notes) out.push(`Note: ${note}`);
  out.push('-'.repeat(width));
  // No control character from a name reaches the terminal (escape sequences, carriage returns).
  return `${out.join('\n').split('\n').map(escapeControls).join('\n')}\n`;
}

function cell(text: string): string {
  return clip(escapeControls(text), 160);
}

function sharingLine(report: Report): string {
  const gap = report.counts.summary - report.counts.unique;
  if (report.shared.length === 0 && gap === 0)
    return 'Summary-style - unique = 0: no parameter is used by more than one call.';
  const named = report.shared.map((s) => `${s.name} (${formatCount(s.numel)} x ${s.calls} calls)`);
  const merged = report.valueMerged.map((v) => `${v.name} (value-merged, ${v.callNames.length} calls)`);
  return `Summary-style - unique = ${formatCount(gap)} (${formatCompact(gap)}), counted more than once: ${[...named, ...merged].join(', ')}`;
}

function unusedLine(report: Report): string {
  const gap = report.counts.declared - report.counts.unique;
  if (report.unused.length === 0) return 'Declared - unique = 0: every declared parameter is used.';
  const named = report.unused.map((u) => `${u.name} (${formatCount(u.numel)}, ${u.reason})`);
  return `Declared - unique = ${formatCount(gap)} (${formatCompact(gap)}), declared but unused: ${named.join(', ')}`;
}

export function traceLine(report: Report): string {
  const t = report.trace;
  if (t.mode === 'static') return 'static (not traced)';
  if (t.mode === 'failed') return `static (trace failed: ${t.error})`;
  return `traced with onnxruntime ${t.onnxruntimeVersion} on ${t.device}`;
}
