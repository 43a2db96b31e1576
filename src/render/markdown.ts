// The pull-request comment and the job summary, in GitHub-flavoured Markdown. The verdict comes first
// and is never shortened; detail is cut, with a note, to stay under GitHub's limits.
import { markdownTable } from 'markdown-table';
import type { Comparison, CountName } from '../compare/comparison.ts';
import type { Report } from '../report/report.ts';
import { code, escapeText } from './escape.ts';
import { formatCount, formatMegabytes, formatPercent, formatShape, formatSigned } from './format.ts';

/** GitHub rejects issue comments longer than this (characters). */
export const COMMENT_LIMIT = 65_536;
/** GitHub's limit for one step's job summary (bytes). */
export const SUMMARY_LIMIT = 1024 * 1024;

export interface CommentOptions {
  commentKey: string;
  maxLength?: number;
  /** Extra footer text (e.g. the base commit); trusted, written by paramtrace. */
  footer?: string;
  /** The head report, for the per-layer detail. */
  headReport?: Report;
}

export function commentMarker(key: string): string {
  return `<!-- paramtrace:comment-key=${key.replace(/[^A-Za-z0-9_.\-/]/g, '_')} -->`;
}

export function renderComment(comparison: Comparison, options: CommentOptions): string {
  const limit = (options.maxLength ?? COMMENT_LIMIT) - 200; // room for the truncation note
  // Shorten the detail step by step; the verdict and the counts table always stay.
  for (const rows of [Infinity, 200, 50, 10, 0]) {
    const body = render(comparison, options, rows);
    if (body.length <= limit) return body;
  }
  return render(comparison, options, 0, true);
}

export function renderSummary(comparison: Comparison, headReport?: Report): string {
  for (const rows of [Infinity, 2000, 200, 0]) {
    const body = render(comparison, { commentKey: 'summary', headReport }, rows);
    if (Buffer.byteLength(body) <= SUMMARY_LIMIT - 1024) return body;
  }
  return render(comparison, { commentKey: 'summary' }, 0, true);
}

const COUNT_ROWS: [CountName, string][] = [
  ['unique', 'Unique (used)'],
  ['declared', 'Declared'],
  ['summary', 'Summary-style'],
  ['trainable', 'Trainable'],
  ['frozen', 'Frozen'],
  ['buffers', 'Buffers'],
];

function render(c: Comparison, options: CommentOptions, rows: number, minimal = false): string {
  const out: string[] = [commentMarker(options.commentKey), `### paramtrace: ${c.verdict.headline}`, ''];
  for (const f of c.verdict.failures.length > 1 ? c.verdict.failures : []) out.push(`- ${f}`);
  if (c.verdict.failures.length > 1) out.push('');

  const countRows = COUNT_ROWS.filter(
    ([name]) => c.counts[name].base !== null || c.counts[name].head !== null,
  ).map(([name, label]) => {
    const d = c.counts[name];
    return [
      label,
      d.base === null ? 'n/a' : formatCount(d.base),
      d.head === null ? 'n/a' : formatCount(d.head),
      d.delta === null ? 'n/a' : formatSigned(d.delta),
      d.delta === null || d.base === null ? '' : formatPercent(d.delta, d.base),
    ];
  });
  const bytes = c.counts.parameterBytes;
  countRows.push([
    'Size (MB)',
    formatMegabytes(bytes.base ?? 0),
    formatMegabytes(bytes.head ?? 0),
    `${(bytes.delta ?? 0) >= 0 ? '+' : ''}${formatMegabytes(bytes.delta ?? 0)}`,
    '',
  ]);
  out.push(
    markdownTable([['Parameters', 'base', 'head', 'change', '%'], ...countRows], {
      align: ['l', 'r', 'r', 'r', 'r'],
    }),
    '',
  );

  if (c.newShared.length > 0) {
    out.push(
      '**New shared parameters** (used by more than one layer call; summary-style counts them once per call):',
      '',
    );
    out.push(
      markdownTable(
        [
          ['Parameter', 'Size', 'Calls', 'Used by'],
          ...c.newShared.slice(0, Math.max(rows, 20)).map((s) => [
            code(s.name),
            formatCount(s.numel),
            String(s.calls),
            s.callNames
              .slice(0, 5)
              .map((n) => code(n, 80))
              .join(', ') + (s.callNames.length > 5 ? ', …' : ''),
          ]),
        ],
        { align: ['l', 'r', 'r', 'l'] },
      ),
      '',
    );
  }
  if (c.newUnused.length > 0) {
    out.push('**New unused parameters** (declared but used by no executed layer call):', '');
    out.push(
      markdownTable(
        [
          ['Parameter', 'Size', 'Reason'],
          ...c.newUnused
            .slice(0, Math.max(rows, 20))
            .map((u) => [code(u.name), formatCount(u.numel), `${u.reason}: ${escapeText(u.detail)}`]),
        ],
        { align: ['l', 'r', 'l'] },
      ),
      '',
    );
  }
  if (c.newDuplicates.length > 0) {
    out.push(
      `**Stored twice** (counted once): ${c.newDuplicates.map((d) => `${d.names.map((n) => code(n)).join(' = ')}${d.transposed ? ' (transposed)' : ''}, ${formatCount(d.bytesWasted)} bytes wasted`).join('; ')}`,
      '',
    );
  }
  const resolved = [
    ...c.resolvedShared.map((s) => `${code(s.name)} is no longer shared`),
    ...c.resolvedUnused.map((u) => `${code(u.name)} is no longer unused`),
  ];
  if (resolved.length > 0) out.push(`**Resolved:** ${resolved.slice(0, Math.max(rows, 20)).join('; ')}`, '');

  if (!minimal && rows > 0) {
    const changes = [
      ...c.added.map((p) => [code(p.name), 'added', '', formatShape(p.shape), formatSigned(p.numel)]),
      ...c.removed.map((p) => [code(p.name), 'removed', formatShape(p.shape), '', formatSigned(-p.numel)]),
      ...c.resized.map((p) => [
        code(p.name),
        'resized',
        formatShape(p.baseShape),
        formatShape(p.headShape),
        formatSigned(p.headNumel - p.baseNumel),
      ]),
    ];
    if (changes.length > 0) {
      out.push('**Parameters added, removed or resized** (largest first):', '');
      out.push(
        markdownTable(
          [['Parameter', 'Change', 'Base shape', 'Head shape', 'Params'], ...changes.slice(0, rows)],
          { align: ['l', 'l', 'l', 'l', 'r'] },
        ),
      );
      if (changes.length > rows)
        out.push('', `…and ${changes.length - rows} more (see the job summary or the report file).`);
      out.push('');
    }
    if (c.modules.length > 0) {
      out.push('**By module**:', '');
      out.push(
        markdownTable(
          [
            ['Module', 'base', 'head', 'change'],
            ...c.modules
              .slice(0, rows)
              .map((m) => [code(m.name), formatCount(m.base), formatCount(m.head), formatSigned(m.delta)]),
          ],
          { align: ['l', 'r', 'r', 'r'] },
        ),
        '',
      );
    }
    if (options.headReport && options.headReport.layers.length > 0) {
      const layers = options.headReport.layers;
      out.push('<details><summary>Every layer call of head</summary>', '');
      out.push(
        markdownTable(
          [
            ['Layer (call)', 'Type', 'Output shape', 'Param #', ''],
            ...layers
              .slice(0, rows)
              .map((l) => [
                code(l.executions > 1 ? `${l.name} (x${l.executions})` : l.name, 120),
                code(l.type, 60),
                l.outputShapes ? l.outputShapes.map(formatShape).join(' ') : '-',
                formatCount(l.params),
                l.live ? '' : 'dead',
              ]),
          ],
          { align: ['l', 'l', 'l', 'r', 'l'] },
        ),
      );
      if (layers.length > rows)
        out.push('', `…${layers.length - rows} more layer calls in the job summary and the report file.`);
      out.push('', '</details>', '');
    }
  } else {
    out.push(
      "_Detail left out to fit GitHub's comment limit: the full report is in the job summary and the report file._",
      '',
    );
  }

  const how = [
    `head: ${escapeText(c.head.trace)}, ${c.head.source === 'manifest' ? 'PyTorch manifest' : 'ONNX graph'}`,
    `base: ${escapeText(c.base.trace)}, ${c.base.source === 'manifest' ? 'PyTorch manifest' : 'ONNX graph'}`,
  ];
  if (options.footer) how.push(options.footer);
  out.push(`<sub>paramtrace · ${how.join(' · ')}</sub>`);
  return `${out.join('\n')}\n`;
}
