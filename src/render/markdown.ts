// The pull-request comment and the job summary, in GitHub-flavoured Markdown. The verdict comes first
// and always stays (only clipped: a headline over 500 characters, and the list of failures after its
// first 20), then a trace that was not clean, then what changed where: the watched count by module (a
// table and a chart), the counts, the findings, and the layer calls that changed. Detail is cut, with a
// note and a link to where the rest is, to stay under GitHub's limits. Every name and text from a model,
// a PR or an artifact goes through escape.ts.
import { markdownTable as alignedTable } from 'markdown-table';
import type { Comparison } from '../compare/comparison.ts';
import { layerDiff, type LayerDiffRow, type LayerSide } from '../compare/layer-diff.ts';
import { moduleTable, type ModuleTable, type WatchedMetric } from '../compare/module-table.ts';
import { moduleChart } from './mermaid.ts';
import type { Report, UnusedParameter } from '../report/report.ts';
import { clip } from '../report/clip.ts';
import { code, escapeLine, escapeText } from './escape.ts';
import { formatCount, formatPercent, formatSigned, traceLine } from '../report/format.ts';
import { failureSentences, verdictHeadline } from './verdict.ts';
import { countRows } from './count-rows.ts';
import { commentMarker } from './comment-marker.ts';
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

/**
 * Where the rest of the story is, built by the action from its run (trusted; each URL is checked again
 * here, and one that is not a plain http(s) URL is left out). The CLI has none.
 */
export interface CommentLinks {
  /** The workflow run that wrote the comment. */
  run?: string | undefined;
  /** The job summary with the full report (the run's summary page). */
  summary?: string | undefined;
  /** The report artifact, or the page of the run that uploaded it. */
  artifact?: string | undefined;
  /** The HTML report (treemap, layer calls), uploaded as an artifact of the run. */
  page?: string | undefined;
  /** The commits compared; `how` says where the base's report came from (`baseline artifact`). */
  base?: { sha: string; url: string; how?: string | undefined } | undefined;
  head?: { sha: string; url: string } | undefined;
}

export interface CommentOptions {
  commentKey: string;
  maxLength?: number;
  /** Extra footer text (e.g. notes of the run); trusted, written by paramtrace. */
  footer?: string;
  /** The head report, for the per-layer detail. */
  headReport?: Report;
  /**
   * The base report: with the head's, the watched count by module and the layer calls that changed.
   * Without it, the comparison's declared parameters by module and head's layer list stand in.
   */
  baseReport?: Report;
  links?: CommentLinks;
  /** Which layer calls the layer table shows (by default those with parameters, to depth 3). */
  layers?: LayerRowOptions;
}

export { commentMarker };

export function renderComment(comparison: Comparison, options: CommentOptions): string {
  const limit = (options.maxLength ?? COMMENT_LIMIT) - 200; // room for the truncation note
  // Shorten the detail step by step; the verdict and the counts table always stay. (More than 1000 rows
  // never fit in a comment, so no attempt renders more.)
  for (const rows of [1000, 200, 50, 10, 0]) {
    const body = render(comparison, options, rows);
    if (body.length <= limit) return body;
  }
  return fit(render(comparison, options, 0, true), limit, (text) => text.length, options.links);
}

/** The job summary: the comment's content without its hidden marker (a summary is never looked up). */
export function renderSummary(
  comparison: Comparison,
  headReport?: Report,
  more: Pick<CommentOptions, 'baseReport' | 'links'> = {},
): string {
  // The summary is where the comment's links send a reader for the rest: it links to no summary.
  const links = more.links ? { ...more.links, summary: undefined } : undefined;
  const options = { commentKey: null, headReport, baseReport: more.baseReport, links };
  for (const rows of [20_000, 2000, 200, 0]) {
    const body = render(comparison, options, rows);
    if (Buffer.byteLength(body) <= SUMMARY_LIMIT - 1024) return body;
  }
  return fit(
    render(comparison, options, 0, true),
    SUMMARY_LIMIT - 1024,
    (text) => Buffer.byteLength(text),
    links,
  );
}

/** Tables without the padding that aligns their columns in the source: only the rendered view is read. */
function markdownTable(table: string[][], options: { align: string[] }): string {
  return alignedTable(table, { ...options, alignDelimiters: false });
}

const URL_OK = /^https?:\/\/[^\s()<>[\]"'`]+$/;
const SHA_OK = /^[0-9a-f]{7,64}$/;
const safeUrl = (url: string | undefined): string | undefined => (url && URL_OK.test(url) ? url : undefined);

/** Where the full report is, as a link when the run gave one: for the notes that say detail was cut. */
function whereTheRestIs(links: CommentLinks | undefined): string {
  const summary = safeUrl(links?.summary);
  const artifact = safeUrl(links?.artifact);
  const parts = [
    summary ? `the [job summary](${summary})` : 'the job summary',
    artifact ? `the [report file](${artifact})` : 'the report file',
  ];
  return parts.join(' and ');
}

/** The line of links: the run, the job summary, the report artifact, the commits compared. */
function linksLine(links: CommentLinks | undefined): string[] {
  if (!links) return [];
  const parts: string[] = [];
  const run = safeUrl(links.run);
  const summary = safeUrl(links.summary);
  const artifact = safeUrl(links.artifact);
  if (run && run === summary) parts.push(`[Workflow run and job summary](${run})`);
  else {
    if (run) parts.push(`[Workflow run](${run})`);
    if (summary) parts.push(`[Job summary](${summary})`);
  }
  if (artifact) parts.push(`[Report artifact](${artifact})`);
  const page = safeUrl(links.page);
  if (page) parts.push(`[HTML report](${page})`);
  const commit = (c: { sha: string; url: string }): string | undefined => {
    const url = safeUrl(c.url);
    if (!SHA_OK.test(c.sha)) return undefined;
    return url ? `[<code>${c.sha.slice(0, 12)}</code>](${url})` : `<code>${c.sha.slice(0, 12)}</code>`;
  };
  const base = links.base && commit(links.base);
  const head = links.head && commit(links.head);
  // `how` is paramtrace's own word (`baseline artifact`), but checked like the rest.
  const how = links.base?.how && /^[a-z -]{1,40}$/.test(links.base.how) ? ` (${links.base.how})` : '';
  if (base && head) parts.push(`base ${base}${how} → head ${head}`);
  else if (base) parts.push(`base ${base}${how}`);
  else if (head) parts.push(`head ${head}`);
  return parts.length > 0 ? [parts.join(' · '), ''] : [];
}

/**
 * The last resort when even the verdict, the counts and the findings are too long (tens of thousands of
 * new findings, or a footer too long): whole lines from the top while they fit, so no table is cut
 * inside a row, then a note, then the footer line.
 */
function fit(
  body: string,
  limit: number,
  size: (text: string) => number,
  links?: CommentLinks | undefined,
): string {
  const lines = body.replace(/\n$/, '').split('\n');
  const footer = lines.pop()!;
  const note = `_Cut to fit GitHub's limit: the full report is in ${whereTheRestIs(links)}._`;
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

/** The marker of a finding that only the static fall-back saw (the head's trace failed). */
const STATIC_MARK = 'static†';
const STATIC_MEANS =
  'every node that reaches a graph output counts as executed, each Loop body once, and which If branch runs is not known';

/**
 * Right after the verdict: a trace that failed on either side made that side's counts static, though the
 * comment reads as traced. Which side, why (untrusted: escaped), and what to set. A side static by choice
 * (`trace: false`) gets a note saying what that means. Nothing when both were traced.
 */
function traceWarning(c: Comparison): string[] {
  // An empty side (a new model's missing base) has nothing a trace could have run.
  const chosen = (['head', 'base'] as const).filter(
    (side) => c[side].trace.mode === 'static' && c[side].counts.declared + c[side].counts.buffers > 0,
  );
  const note =
    chosen.length === 0
      ? []
      : [
          '> [!NOTE]',
          `> Not traced (<code>trace: false</code>, <code>--no-trace</code> in the CLI), so the counts and findings of ${chosen.length === 2 ? 'both head and base' : chosen[0]} are static: ${STATIC_MEANS}. Set <code>trace: true</code> to count what a run of the model executes.`,
          '',
        ];
  const error = (side: 'head' | 'base'): string | null => {
    const t = c[side].trace;
    return t.mode === 'failed' ? t.error : null;
  };
  const failed = (['head', 'base'] as const).filter((side) => c[side].trace.mode === 'failed');
  if (failed.length === 0) return note;
  const why = (side: 'head' | 'base'): string => escapeLine(error(side) ?? 'no reason given', 300);
  const sides =
    failed.length === 2 && error('head') === error('base')
      ? `**head** and **base** (${why('head')})`
      : failed.map((side) => `**${side}** (${why(side)})`).join(' and for ');
  const which = failed.length === 2 ? 'both head and base' : `${failed[0]}`;
  return [
    '> [!WARNING]',
    `> The trace failed for ${sides}, so the counts and findings of ${which} are static: ${STATIC_MEANS}. Set <code>trace: required</code> in the action (<code>--trace</code> in the CLI) to fail instead, and give the inputs the model needs with <code>input-shapes</code>, <code>input-dims</code>, <code>input-values</code> or <code>input-files</code> (<code>--input</code>, <code>--dim</code>, <code>--value</code>, <code>--input-file</code>).`,
    '',
    ...note,
  ];
}

/** The module table leads the comment: the largest changes, short enough to read at a glance. */
const MODULE_ROWS = 25;
/** When even the detail is left out. */
const MODULE_ROWS_MINIMAL = 10;

const METRIC_LABEL: Record<WatchedMetric, string> = {
  unique: 'Unique parameters',
  declared: 'Declared parameters',
  summary: 'Summary-style parameters',
};

/** What changed where: the watched count by top-level module (only modules that changed), and a chart. */
function moduleSection(table: ModuleTable, rows: number, chart: boolean): string[] {
  const label = METRIC_LABEL[table.metric];
  const what = `${label.toLowerCase()} (the count the verdict watches)`;
  if (table.changed.length === 0) {
    const modules = table.unchanged === 1 ? '1 module' : `${formatCount(table.unchanged)} modules`;
    if (table.unchanged === 0) return [`**By module:** no parameters on either side.`, ''];
    return [`**By module:** ${what} unchanged in ${modules}.`, ''];
  }
  const shown = table.changed.slice(0, rows);
  const out = [
    `**Where it changed:** ${what} by top-level module`,
    '',
    markdownTable(
      [
        ['Module', 'base', 'head', 'change', '%'],
        ...shown.map((m) => [
          code(m.name),
          formatCount(m.base),
          formatCount(m.head),
          formatSigned(m.delta),
          m.base === 0 ? '' : formatPercent(m.delta, m.base),
        ]),
      ],
      { align: ['l', 'r', 'r', 'r', 'r'] },
    ),
    '',
  ];
  const rest = [
    table.changed.length > shown.length
      ? `${formatCount(table.changed.length - shown.length)} more changed`
      : '',
    table.unchanged > 0 ? `${formatCount(table.unchanged)} unchanged` : '',
  ].filter(Boolean);
  if (rest.length > 0)
    out.push(
      `…and ${rest.join(', ')} module${table.changed.length - shown.length + table.unchanged === 1 ? '' : 's'}.`,
      '',
    );
  if (chart) {
    const lines = moduleChart(table, label);
    if (lines.length > 0) out.push(...lines, '');
  }
  return out;
}

/** `9`, `9 × 2` for a call that ran twice, `-` for no call. */
function sideText(side: LayerSide | null): string {
  if (!side) return '-';
  return side.executions === 1
    ? formatCount(side.params)
    : `${formatCount(side.params)} × ${formatCount(side.executions)}`;
}

const CHANGE_WORD: Record<LayerDiffRow['change'], string> = {
  added: 'added',
  removed: 'removed',
  changed: 'changed',
  unchanged: '',
};

/** A layer call's name, with the control-flow body it runs in. */
function callName(row: LayerDiffRow): string {
  return row.graph === '' ? row.name : `${row.name} (in ${row.graph})`;
}

function layerType(row: LayerDiffRow): string {
  const b = row.base?.type;
  const h = row.head?.type;
  return b !== undefined && h !== undefined && b !== h
    ? `${code(b, 60)} → ${code(h, 60)}`
    : code(h ?? b ?? '', 60);
}

/** The layer calls that changed, then the unchanged ones folded away (as compressed-size-action does). */
function layerDiffSection(
  base: Report,
  head: Report,
  rows: number,
  links: CommentLinks | undefined,
): string[] {
  const diff = layerDiff(base, head);
  const out: string[] = [];
  const table = (list: LayerDiffRow[], withChange: boolean): string =>
    markdownTable(
      [
        ['Layer call', 'Type', 'base', 'head', ...(withChange ? ['change', ''] : [])],
        ...list
          .slice(0, rows)
          .map((r) => [
            code(callName(r), 120),
            layerType(r),
            sideText(r.base),
            sideText(r.head),
            ...(withChange ? [formatSigned(r.delta), CHANGE_WORD[r.change]] : []),
          ]),
      ],
      { align: ['l', 'l', 'r', 'r', ...(withChange ? ['r', 'l'] : [])] },
    );
  if (diff.changed.length > 0) {
    out.push(
      '**Layer calls that changed** (parameters of the call × times it ran; added, removed, or with other parameters, runs or type):',
      '',
      table(diff.changed, true),
      '',
    );
    if (diff.changed.length > rows)
      out.push(`…and ${formatCount(diff.changed.length - rows)} more, in ${whereTheRestIs(links)}.`, '');
  } else out.push('**Layer calls:** none added, removed or changed.', '');
  const folded = diff.unchanged.length + diff.withoutParameters;
  if (folded > 0) {
    const plural = (n: number, word: string): string => `${formatCount(n)} ${word}${n === 1 ? '' : 's'}`;
    const summary = [
      ...(diff.unchanged.length > 0
        ? [`${plural(diff.unchanged.length, 'unchanged layer call')} with parameters`]
        : []),
      ...(diff.withoutParameters > 0
        ? [`${plural(diff.withoutParameters, 'layer call')} without parameters`]
        : []),
    ].join(', ');
    out.push(`<details><summary>${summary}</summary>`, '');
    if (diff.unchanged.length > 0) out.push(table(diff.unchanged, false), '');
    if (diff.unchanged.length > rows)
      out.push(`…and ${formatCount(diff.unchanged.length - rows)} more, in ${whereTheRestIs(links)}.`, '');
    if (diff.withoutParameters > 0)
      out.push(
        `${plural(diff.withoutParameters, 'layer call')} without parameters on either side (0 → 0) not shown: the report file lists every layer call.`,
        '',
      );
    out.push('</details>', '');
  }
  return out;
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
    `### paramtrace: ${escapeLine(verdictHeadline(c), 500)}`,
    '',
    ...traceWarning(c),
  ];
  const failures = c.verdict.failures.length > 1 ? failureSentences(c) : [];
  for (const f of failures.slice(0, LISTED)) out.push(`- ${escapeLine(f, 500)}`);
  if (failures.length > LISTED) out.push(`- … ${formatCount(failures.length - LISTED)} more`);
  if (failures.length > 0) out.push('');

  // Both reports: the watched count by module leads, computed from the same counts the verdict reads.
  const reports =
    options.baseReport && options.headReport ? { base: options.baseReport, head: options.headReport } : null;
  const metric = c.thresholds.metric ?? 'unique';
  if (reports)
    out.push(
      ...moduleSection(
        moduleTable(reports.base, reports.head, metric),
        rows > 0 ? MODULE_ROWS : MODULE_ROWS_MINIMAL,
        !minimal,
      ),
    );

  const counts = countRows(c);
  out.push(
    markdownTable([['Parameters', 'base', 'head', 'change', '%'], ...counts], {
      align: ['l', 'r', 'r', 'r', 'r'],
    }),
    '',
  );

  // Findings that depend on what runs (shared, not-executed), in a head whose trace failed, come from the
  // static fall-back: marked, with a legend. Not-exported, orphan and dead are read from the graph either way.
  const staticHead = c.head.trace.mode === 'failed';
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
          ...c.newUnused.slice(0, Math.max(rows, LISTED)).map((u) => [
            code(u.name),
            formatCount(u.numel),
            // Prose: colons and parentheses stay (escapeLine), every character that could act is an entity.
            `${escapeText(u.reason, 40)}: ${escapeLine(u.detail, 200)}`,
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
        out.push('', `…and ${formatCount(changed - rows)} more, in ${whereTheRestIs(options.links)}.`);
      out.push('');
    }
    // A base without layer calls (a new model) has nothing to diff: head's calls, by module, say more.
    const diffLayers = reports !== null && reports.base.layers.length > 0;
    if (diffLayers) out.push(...layerDiffSection(reports.base, reports.head, rows, options.links));
    else if (!reports && c.modules.length > 0) {
      out.push('**By module** (declared parameters):', '');
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
    const table =
      options.headReport && !diffLayers ? layerRows(options.headReport, options.layers) : undefined;
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
      `_Detail left out to fit GitHub's comment limit: the full report is in ${whereTheRestIs(options.links)}._`,
      '',
    );
  }
  out.push(...linksLine(options.links));

  const how = [
    `head: ${escapeText(traceLine(c.head))}, ${c.head.source === 'manifest' ? 'PyTorch manifest' : 'ONNX graph'}`,
    `base: ${escapeText(traceLine(c.base))}, ${c.base.source === 'manifest' ? 'PyTorch manifest' : 'ONNX graph'}`,
  ];
  if (options.footer)
    how.push(boundedFooter(options.footer, Math.min(FOOTER_MAX, (options.maxLength ?? COMMENT_LIMIT) / 8)));
  out.push(`<sub>paramtrace · ${how.join(' · ')}</sub>`);
  return `${out.join('\n')}\n`;
}
