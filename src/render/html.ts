// The HTML report (`paramtrace report --html`): one self-contained page, a treemap of the parameters by
// module, the layer table, and for two reports the comparison. Nothing loads from the network: CSS and
// script are inline and a Content-Security-Policy forbids every fetch. Names come from an untrusted model:
// the server-side parts escape them as HTML text, the data for the script is JSON made inert inside
// <script>, and the script writes names with textContent only.
import { COUNT_NAMES, type Comparison, type CountName } from '../compare/comparison.ts';
import { formatCount, formatPercent, formatShape, formatSigned, traceLine } from '../report/format.ts';
import { escapeUnsafe } from '../report/plain-line.ts';
import type { Report } from '../report/report.ts';
import { HTML_SCRIPT, HTML_STYLE } from './html-assets.ts';
import { treemapData, type LeafChange, type TreemapData } from './html-treemap.ts';
import { layerRows, markText, rowName, rowType } from './layer-rows.ts';

export type HtmlReportInput = { report: Report } | { base: Report; head: Report; comparison: Comparison };

export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const COUNT_WORDS: Record<CountName, string> = {
  declared: 'declared',
  unique: 'unique (used)',
  summary: 'summary-style',
  trainable: 'trainable',
  frozen: 'frozen',
  buffers: 'buffers',
  parameterBytes: 'parameter bytes',
  macs: 'MACs (one run)',
};

export function renderHtmlReport(input: HtmlReportInput): string {
  if ('report' in input) {
    const report = input.report;
    const maps: Record<string, TreemapData> = { report: treemapData(report) };
    return page(`paramtrace: ${report.model.file}`, maps, [
      `<h1>${text(report.model.file)}</h1>`,
      `<p class="meta">${text(describe(report))}</p>`,
      countsTable(report),
      treemapSection([{ key: 'report', label: report.model.file }], false),
      layerSection(report, 'Layer calls'),
      notesSection(report),
    ]);
  }
  const { base, head, comparison } = input;
  const changes = new Map<string, LeafChange>([
    ...comparison.added.map((a) => [a.name, 'added'] as const),
    ...comparison.resized.map((r) => [r.name, 'resized'] as const),
  ]);
  const maps: Record<string, TreemapData> = { head: treemapData(head, changes), base: treemapData(base) };
  return page(`paramtrace: ${base.model.file} → ${head.model.file}`, maps, [
    `<h1>${text(base.model.file)} → ${text(head.model.file)}</h1>`,
    `<p class="meta">base: ${text(describe(base))}<br>head: ${text(describe(head))}</p>`,
    comparisonSection(comparison),
    treemapSection(
      [
        { key: 'head', label: `head: ${head.model.file}` },
        { key: 'base', label: `base: ${base.model.file}` },
      ],
      true,
    ),
    layerSection(head, 'Layer calls of head'),
    notesSection(head),
  ]);
}

function describe(report: Report): string {
  const source = report.source === 'manifest' ? 'PyTorch manifest embedded in the model' : 'ONNX graph';
  return `${report.model.file}: ${source}; ${traceLine(report)}; paramtrace ${report.tool.version}`;
}

function page(title: string, maps: Record<string, TreemapData>, body: string[]): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${text(title)}</title>
<style>${HTML_STYLE}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
<script type="application/json" id="paramtrace-data">${scriptJson({ maps })}</script>
<script>${HTML_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * Text as HTML: the five characters HTML acts on become entities (also safe inside quoted attributes), and
 * controls, bidirectional and invisible characters visible `\uXXXX` escapes (src/report/plain-line.ts).
 */
export function text(value: string): string {
  return escapeUnsafe(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * JSON for a <script> element: `<`, `>` and `&` as \u escapes, so no `</script>` or `<!--` in a name can
 * end or change the element; U+2028/2029 too, for tools that read it as JavaScript. JSON.parse gives the
 * same value back.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function countsTable(report: Report): string {
  const rows = COUNT_NAMES.map((name) => {
    const value = report.counts[name] ?? null;
    return `<tr><th scope="row">${COUNT_WORDS[name]}</th><td class="num">${value === null ? 'n/a' : formatCount(value)}</td></tr>`;
  });
  return `<section><h2>Counts</h2><table class="counts"><tbody>${rows.join('')}</tbody></table></section>`;
}

function comparisonSection(c: Comparison): string {
  const rows = COUNT_NAMES.map((name) => {
    const d = c.counts[name];
    const show = (n: number | null): string => (n === null ? 'n/a' : formatCount(n));
    const change =
      d.delta === null
        ? 'n/a'
        : `${formatSigned(d.delta)}${d.base !== null && d.delta !== 0 ? ` (${formatPercent(d.delta, d.base)})` : ''}`;
    const cls = d.delta === null || d.delta === 0 ? '' : d.delta > 0 ? ' up' : ' down';
    return `<tr><th scope="row">${COUNT_WORDS[name]}</th><td class="num">${show(d.base)}</td><td class="num">${show(d.head)}</td><td class="num${cls}">${change}</td></tr>`;
  });
  const parts = [
    `<section><h2>Comparison</h2><div class="cmp"><div><table class="counts"><thead><tr><th></th><th>base</th><th>head</th><th>change</th></tr></thead><tbody>${rows.join('')}</tbody></table></div><div>`,
    listTable(
      'Added parameters',
      ['parameter', 'shape', 'numel'],
      c.added.map((a) => [a.name, formatShape(a.shape), formatCount(a.numel)]),
    ),
    listTable(
      'Removed parameters',
      ['parameter', 'shape', 'numel'],
      c.removed.map((r) => [r.name, formatShape(r.shape), formatCount(r.numel)]),
    ),
    listTable(
      'Resized parameters',
      ['parameter', 'base shape', 'head shape', 'change'],
      c.resized.map((r) => [
        r.name,
        formatShape(r.baseShape),
        formatShape(r.headShape),
        formatSigned(r.headNumel - r.baseNumel),
      ]),
    ),
    listTable(
      'Newly shared',
      ['parameter', 'numel', 'calls'],
      c.newShared.map((s) => [s.name, formatCount(s.numel), s.callNames.join(', ')]),
    ),
    listTable(
      'Newly unused',
      ['parameter', 'numel', 'why'],
      c.newUnused.map((u) => [u.name, formatCount(u.numel), u.reason]),
    ),
    listTable(
      'No longer shared',
      ['parameter', 'numel'],
      c.resolvedShared.map((s) => [s.name, formatCount(s.numel)]),
    ),
    listTable(
      'No longer unused',
      ['parameter', 'numel'],
      c.resolvedUnused.map((u) => [u.name, formatCount(u.numel)]),
    ),
    '</div></div></section>',
  ];
  return parts.join('\n');
}

/** A small table under a heading, or nothing when it has no rows. */
function listTable(title: string, columns: string[], rows: string[][]): string {
  if (rows.length === 0) return '';
  const head = columns.map((c) => `<th>${c}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((cell, i) => `<td${i === 0 ? ' class="name"' : ''}>${text(cell)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<h3>${title}</h3><table class="list"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function treemapSection(views: { key: string; label: string }[], tabs: boolean): string {
  const legend = [
    ['used', 'used by one call'],
    ['shared', 'shared: used by several calls'],
    ['unused', 'unused'],
    ...(tabs
      ? [
          ['added', 'added in head'],
          ['resized', 'resized in head'],
        ]
      : []),
  ]
    .map(([cls, words]) => `<span class="key"><span class="swatch ${cls}"></span>${words}</span>`)
    .join('');
  const tabBar = tabs
    ? `<div class="tabs" role="tablist">${views
        .map(
          (v, i) =>
            `<button type="button" role="tab" class="tab" data-view="${text(v.key)}" aria-selected="${i === 0}">${text(v.label)}</button>`,
        )
        .join('')}</div>`
    : '';
  const maps = views
    .map(
      (v, i) =>
        `<div class="treemap" data-view="${text(v.key)}"${i === 0 ? '' : ' hidden'} aria-label="treemap of ${text(v.label)}"></div>`,
    )
    .join('');
  return `<section><h2>Parameters by module</h2>
<p class="hint">Area is the number of elements, each tensor once. Click a rectangle or a module's name to see the layer calls that use it.</p>
<div class="legend">${legend}</div>${tabBar}
<div class="map-and-details"><div class="maps">${maps}</div><aside id="details" aria-live="polite"><p class="hint">Nothing selected.</p></aside></div>
</section>`;
}

function layerSection(report: Report, title: string): string {
  const table = layerRows(report, { allNodes: true });
  const rows = table.rows.map((row) => {
    const mark = markText(row.mark);
    const cls = row.mark ? ` class="${row.mark.kind}"` : '';
    const shape = row.outputShapes?.map((s) => formatShape(s)).join(', ') ?? '-';
    return `<tr${cls}><td class="name">${text(rowName(row))}</td><td>${text(rowType(row))}</td><td>${text(shape)}</td><td class="num">${formatCount(row.params)}</td><td>${text(mark)}</td></tr>`;
  });
  return `<section><h2>${title}</h2><div class="scroll"><table class="layers"><thead><tr><th>layer (call)</th><th>type</th><th>output shape</th><th>param #</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`;
}

function notesSection(report: Report): string {
  if (report.notes.length === 0) return '';
  return `<section><h2>Notes</h2><ul class="notes">${report.notes.map((n) => `<li>${text(n)}</li>`).join('')}</ul></section>`;
}
