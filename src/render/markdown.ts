// The pull-request comment and the job summary, in GitHub-flavoured Markdown. The verdict comes first
// and always stays (only clipped: a headline over 500 characters, and the list of failures after its
// first 20); detail is cut, with a note, to stay under GitHub's limits. Every name and text from a model, a PR or an artifact
// goes through escape.ts.
import { markdownTable } from 'markdown-table';
import type { Comparison, CountName } from '../compare/comparison.ts';
import type { Report, UnusedParameter } from '../report/report.ts';
import { clip } from '../report/clip.ts';
import { code, escapeLine, escapeText } from './escape.ts';
import { formatCount, formatMegabytes, formatPercent, formatSigned } from '../report/format.ts';
import type { Dim } from '../report/report.ts';
import {
  layerRows,
  leftOutParts,
  markText,
  rowName,
  rowType,
  type LayerRowOptions,
  type LayerTable,
} from './layer-rows.ts';

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
  /** Which layer calls the layer table shows (by default those with parameters, to depth 3). */
  layers?: LayerRowOptions;
}

export function commentMarker(key: string): string {
  return `<!-- paramtrace:comment-key=${key.replace(/[^A-Za-z0-9_.\-/]/g, '_')} -->`;
}

export function renderComment(comparison: Comparison, options: CommentOptions): string {
  const limit = (options.maxLength ?? COMMENT_LIMIT) - 200; // room for the truncation note
  // Shorten the detail step by step; the verdict and the counts table always stay. (More than 1000 rows
  // never fit in a comment, so no attempt renders more.)
  for (const rows of [1000, 200, 50, 10, 0]) {
    const body = render(comparison, options, rows);
    if (body.length <= limit) return body;
  }
  return fit(render(comparison, options, 0, true), limit, (text) => text.length);
}

/** The job summary: the comment's content without its hidden marker (a summary is never looked up). */
export function renderSummary(comparison: Comparison, headReport?: Report): string {
  for (const rows of [20_000, 2000, 200, 0]) {
    const body = render(comparison, { commentKey: null, headReport }, rows);
    if (Buffer.byteLength(body) <= SUMMARY_LIMIT - 1024) return body;
  }
  return fit(render(comparison, { commentKey: null }, 0, true), SUMMARY_LIMIT - 1024, (text) =>
    Buffer.byteLength(text),
  );
}

/**
 * The last resort when even the verdict, the counts and the findings are too long (tens of thousands of
 * new findings, or a footer too long): whole lines from the top while they fit, so no table is cut
 * inside a row, then a note, then the footer line.
 */
function fit(body: string, limit: number, size: (text: string) => number): string {
  const lines = body.replace(/\n$/, '').split('\n');
  const footer = lines.pop()!;
  const note = "_Cut to fit GitHub's limit: the full report is in the job summary and the report file._";
  const tail = size(`\n${note}\n\n${footer}\n`) <= limit / 4 ? `\n${note}\n\n${footer}\n` : `\n${note}\n`;
  let budget = limit - size(tail);
  const kept: string[] = [];
  for (const line of lines) {
    const cost = size(line) + 1;
    if (cost > budget) break;
    kept.push(line);
    budget -= cost;
  }
  // A table's header row without its delimiter row is no table: drop it. A table cut short must end
  // before the note: an empty line ends it.
  let tableLines = 0;
  while (tableLines < kept.length && kept[kept.length - 1 - tableLines]!.startsWith('|')) tableLines++;
  if (tableLines === 1) kept.pop();
  if (kept.length > 0 && kept.at(-1) !== '') kept.push('');
  return `${kept.join('\n')}${tail}`;
}

/** Failures, findings and names listed in one line or list: at most this many, then how many more. */
const LISTED = 20;

function more(total: number, shown: number): string {
  return total > shown ? `, … (${formatCount(total - shown)} more)` : '';
}

/** `[1, 3, 'batch', ?]`: numbers as they are, symbolic dimensions (from the model) escaped. */
function shapeText(shape: readonly Dim[]): string {
  return `[${shape
    .slice(0, 64)
    .map((d) => (d === null ? '?' : typeof d === 'number' ? String(d) : escapeText(d, 60)))
    .join(', ')}]`;
}

const COUNT_ROWS: [CountName, string][] = [
  ['unique', 'Unique (used)'],
  ['declared', 'Declared'],
  ['summary', 'Summary-style'],
  ['trainable', 'Trainable'],
  ['frozen', 'Frozen'],
  ['buffers', 'Buffers'],
];

/** The marker of a finding that only the static fall-back saw (the head's trace failed). */
const STATIC_MARK = 'static†';
const STATIC_MEANS =
  'every node that reaches a graph output counts as executed, each Loop body once, and which If branch runs is not known';

/**
 * Right after the verdict: a trace that failed on either side made that side's counts static, though the
 * comment reads as traced. Which side, why (untrusted: escaped), and what to set. Nothing when both were
 * traced, or are static by choice (`trace: false`; the footer says so).
 */
function traceWarning(c: Comparison): string[] {
  const failed = (['head', 'base'] as const).filter((side) => c[side].traceMode === 'failed');
  if (failed.length === 0) return [];
  const why = (side: 'head' | 'base'): string => escapeLine(c[side].traceError ?? 'no reason given', 300);
  const sides =
    failed.length === 2 && c.head.traceError === c.base.traceError
      ? `**head** and **base** (${why('head')})`
      : failed.map((side) => `**${side}** (${why(side)})`).join(' and for ');
  const which = failed.length === 2 ? 'both head and base' : `${failed[0]}`;
  return [
    '> [!WARNING]',
    `> The trace failed for ${sides}, so the counts and findings of ${which} are static: ${STATIC_MEANS}. Set <code>trace: required</code> in the action (<code>--trace</code> in the CLI) to fail instead, and give the inputs the model needs with <code>input-shapes</code>, <code>input-dims</code>, <code>input-values</code> or <code>input-files</code> (<code>--input</code>, <code>--dim</code>, <code>--value</code>, <code>--input-file</code>).`,
    '',
  ];
}

/** The layer table's title: what its rows are. */
function layerSummary(table: LayerTable): string {
  if (table.depth === null) return 'Every layer call of head';
  return `Layer calls of head with parameters, by module to depth ${table.depth}`;
}

/** The line under the layer table: the calls left out or summed (the report file has every call). */
function leftOut(table: LayerTable): string | undefined {
  const parts = leftOutParts(table);
  if (parts.length === 0) return undefined;
  return `…${parts.join('; ')}: the report file lists every layer call (<code>paramtrace analyze --all-nodes</code> shows them).`;
}

/** The most of the footer text a comment shows (characters). */
const FOOTER_MAX = 2000;

/**
 * The footer text, at most FOOTER_MAX characters: its parts, joined by ` · ` (the commits and the run's
 * link first, then the notes a report bundle carries, up to 1000 of them), while they fit, then how many
 * more there are. Without this, many notes would make the footer too long for the comment, and the last
 * resort (`fit`) would drop it, commits and link included. The report file has every note. (A note with
 * ` · ` in it counts as two here.)
 */
function boundedFooter(footer: string, max: number): string {
  if (footer.length <= max) return footer;
  const parts = footer.split(' · ');
  const budget = Math.max(0, max - 60); // room for the line saying how many more
  const kept: string[] = [];
  let length = 0;
  for (const part of parts) {
    if (length + part.length > budget) {
      // A first part too long on its own is clipped rather than dropped.
      if (kept.length === 0 && budget > 0) kept.push(clip(part, budget));
      break;
    }
    kept.push(part);
    length += part.length + 3;
  }
  const left = parts.length - kept.length;
  if (left === 0) return kept.join(' · ');
  return [...kept, `… and ${formatCount(left)} more note${left === 1 ? '' : 's'}, in the report file`].join(
    ' · ',
  );
}

/** `commentKey: null`: no marker line (the job summary). */
type RenderOptions = Omit<CommentOptions, 'commentKey'> & { commentKey: string | null };

function render(c: Comparison, options: RenderOptions, rows: number, minimal = false): string {
  const out: string[] = [
    ...(options.commentKey === null ? [] : [commentMarker(options.commentKey)]),
    // The verdict names parameters (new shared, new unused) and may come from an artifact: escaped too.
    `### paramtrace: ${escapeLine(c.verdict.headline, 500)}`,
    '',
    ...traceWarning(c),
  ];
  const failures = c.verdict.failures.length > 1 ? c.verdict.failures : [];
  for (const f of failures.slice(0, LISTED)) out.push(`- ${escapeLine(f, 500)}`);
  if (failures.length > LISTED) out.push(`- … ${formatCount(failures.length - LISTED)} more`);
  if (failures.length > 0) out.push('');

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

  // Findings that depend on what runs (shared, not-executed), in a head whose trace failed, come from the
  // static fall-back: marked, with a legend. Not-exported, orphan and dead are read from the graph either way.
  const staticHead = c.head.traceMode === 'failed';
  const staticUnused = (u: UnusedParameter): boolean => staticHead && u.reason === 'not-executed';
  const markShared = staticHead && c.newShared.length > 0;
  const markUnused = c.newUnused.slice(0, Math.max(rows, LISTED)).some(staticUnused);
  if (c.newShared.length > 0) {
    out.push(
      '**New shared parameters** (used by more than one layer call; summary-style counts them once per call):',
      '',
    );
    out.push(
      markdownTable(
        [
          ['Parameter', 'Size', 'Calls', 'Used by', ...(markShared ? ['Seen'] : [])],
          ...c.newShared.slice(0, Math.max(rows, LISTED)).map((s) => [
            code(s.name),
            formatCount(s.numel),
            formatCount(s.calls),
            s.callNames
              .slice(0, 5)
              .map((n) => code(n, 80))
              .join(', ') + more(s.callNames.length, 5),
            ...(markShared ? [STATIC_MARK] : []),
          ]),
        ],
        { align: ['l', 'r', 'r', 'l', ...(markShared ? ['l'] : [])] },
      ),
      '',
    );
    if (c.newShared.length > Math.max(rows, LISTED))
      out.push(`…and ${formatCount(c.newShared.length - Math.max(rows, LISTED))} more.`, '');
  }
  if (c.newUnused.length > 0) {
    out.push('**New unused parameters** (declared but used by no executed layer call):', '');
    out.push(
      markdownTable(
        [
          ['Parameter', 'Size', 'Reason', ...(markUnused ? ['Seen'] : [])],
          ...c.newUnused
            .slice(0, Math.max(rows, LISTED))
            .map((u) => [
              code(u.name),
              formatCount(u.numel),
              `${escapeText(u.reason, 40)}: ${escapeText(u.detail)}`,
              ...(markUnused ? [staticUnused(u) ? STATIC_MARK : ''] : []),
            ]),
        ],
        { align: ['l', 'r', 'l', ...(markUnused ? ['l'] : [])] },
      ),
      '',
    );
    if (c.newUnused.length > Math.max(rows, LISTED))
      out.push(`…and ${formatCount(c.newUnused.length - Math.max(rows, LISTED))} more.`, '');
  }
  if (markShared || markUnused)
    out.push(
      `${STATIC_MARK}: seen only by the static fall-back, as the trace of head failed (${STATIC_MEANS}); a trace may not confirm it.`,
      '',
    );
  if (c.newDuplicates.length > 0) {
    const shown = c.newDuplicates.slice(0, LISTED);
    out.push(
      `**Stored twice** (counted once): ${shown
        .map(
          (d) =>
            `${d.names
              .slice(0, 5)
              .map((n) => code(n))
              .join(
                ' = ',
              )}${more(d.names.length, 5)}${d.transposed ? ' (transposed)' : ''}, ${formatCount(d.bytesWasted)} bytes wasted`,
        )
        .join('; ')}${more(c.newDuplicates.length, shown.length)}`,
      '',
    );
  }
  const resolved = [
    ...c.resolvedShared.slice(0, LISTED).map((s) => `${code(s.name)} is no longer shared`),
    ...c.resolvedUnused.slice(0, LISTED).map((u) => `${code(u.name)} is no longer unused`),
  ];
  const resolvedCount = c.resolvedShared.length + c.resolvedUnused.length;
  if (resolved.length > 0)
    out.push(
      `**Resolved:** ${resolved.slice(0, LISTED).join('; ')}${more(resolvedCount, Math.min(LISTED, resolved.length))}`,
      '',
    );

  if (!minimal && rows > 0) {
    const changes = [
      ...c.added
        .slice(0, rows)
        .map((p) => [code(p.name), 'added', '', shapeText(p.shape), formatSigned(p.numel)]),
      ...c.removed
        .slice(0, rows)
        .map((p) => [code(p.name), 'removed', shapeText(p.shape), '', formatSigned(-p.numel)]),
      ...c.resized
        .slice(0, rows)
        .map((p) => [
          code(p.name),
          'resized',
          shapeText(p.baseShape),
          shapeText(p.headShape),
          formatSigned(p.headNumel - p.baseNumel),
        ]),
    ];
    const changed = c.added.length + c.removed.length + c.resized.length;
    if (changes.length > 0) {
      out.push('**Parameters added, removed or resized** (largest first):', '');
      out.push(
        markdownTable(
          [['Parameter', 'Change', 'Base shape', 'Head shape', 'Params'], ...changes.slice(0, rows)],
          { align: ['l', 'l', 'l', 'l', 'r'] },
        ),
      );
      if (changed > rows)
        out.push('', `…and ${formatCount(changed - rows)} more (see the job summary or the report file).`);
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
      if (c.modules.length > rows) out.push(`…and ${formatCount(c.modules.length - rows)} more modules.`, '');
    }
    const table = options.headReport ? layerRows(options.headReport, options.layers) : undefined;
    if (table && table.rows.length + table.hiddenCalls > 0) {
      const layers = table.rows;
      out.push(`<details><summary>${layerSummary(table)}</summary>`, '');
      if (layers.length > 0)
        out.push(
          markdownTable(
            [
              ['Layer (call)', 'Type', 'Output shape', 'Param #', ''],
              ...layers
                .slice(0, rows)
                .map((l) => [
                  code(rowName(l), 120),
                  code(rowType(l), 60),
                  l.outputShapes
                    ? l.outputShapes.slice(0, 8).map(shapeText).join(' ') +
                      (l.outputShapes.length > 8 ? ' …' : '')
                    : '-',
                  formatCount(l.params),
                  escapeLine(markText(l.mark), 40),
                ]),
            ],
            { align: ['l', 'l', 'l', 'r', 'l'] },
          ),
        );
      if (layers.length > rows)
        out.push(
          '',
          `…${formatCount(layers.length - rows)} more rows in the job summary and the report file.`,
        );
      const left = leftOut(table);
      if (left) out.push('', left);
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
  if (options.footer)
    how.push(boundedFooter(options.footer, Math.min(FOOTER_MAX, (options.maxLength ?? COMMENT_LIMIT) / 8)));
  out.push(`<sub>paramtrace · ${how.join(' · ')}</sub>`);
  return `${out.join('\n')}\n`;
}
