// The one comment (and job summary) of an aggregate run: the verdict over every model, a table with one
// row per model, then each model's own report (renderComment's, folded in a <details>). The comment stays
// under GitHub's 65,536 characters: each model's section is shortened to its share first, and when even
// the shortest sections do not all fit, passing models' sections are left out first, with a note naming
// them. Every key and name goes through escape.ts (keys are checked, but they come from artifacts).
import { markdownTable } from 'markdown-table';
import type { Aggregate, ModelVerdict } from '../compare/aggregate.ts';
import type { Report } from '../report/report.ts';
import { formatCount, formatPercent, formatSigned } from '../report/format.ts';
import { commentMarker } from './comment-marker.ts';
import { code, escapeLine, escapeText } from './escape.ts';
import { COMMENT_LIMIT, renderComment, renderSummary, SUMMARY_LIMIT, type CommentLinks } from './markdown.ts';
import { failureSentence } from './verdict.ts';

/** What a model's section is rendered from, besides its comparison. */
export interface ModelDetail {
  headReport: Report;
  baseReport: Report;
  /** The model's commits and the run's links, for its section. */
  links?: CommentLinks | undefined;
  /** What its run had to work around (a new or removed model, a base that could not be built). */
  notes?: readonly string[] | undefined;
}

export interface AggregateCommentOptions {
  commentKey: string;
  /** By model key. */
  details: ReadonlyMap<string, ModelDetail>;
  /** The run (its job summary has every section in full). */
  links?: CommentLinks | undefined;
  maxLength?: number;
}

const URL_OK = /^https?:\/\/[^\s()<>[\]"'`]+$/;

/** The verdict over all models in one line: for the headline, the status and the log. Plain text. */
export function aggregateHeadline(a: Aggregate): string {
  const n = a.models.length + a.unavailable.length;
  const models = `${n} model${n === 1 ? '' : 's'}`;
  const total = a.total
    ? a.total.delta === 0
      ? `${a.metric} parameters unchanged (${formatCount(a.total.head)})`
      : `${formatSigned(a.total.delta)} ${a.metric} parameters (${formatPercent(a.total.delta, a.total.base)}, ${formatCount(a.total.base)} → ${formatCount(a.total.head)})`
    : '';
  if (a.pass) return `✅ pass: ${models}${total ? `; ${total}` : ''}`;
  const parts: string[] = [];
  if (a.failed.length > 0) parts.push(`${a.failed.length} of ${models} failed (${a.failed.join(', ')})`);
  if (a.missing.length > 0) parts.push(`no report for ${a.missing.join(', ')}`);
  if (a.unavailable.length > 0) parts.push(`could not analyze ${a.unavailable.map((u) => u.key).join(', ')}`);
  return `❌ fail: ${parts.join('; ')}`;
}

function verdictCell(m: ModelVerdict): string {
  if (m.pass) return '✅ pass';
  return `❌ ${escapeLine(m.failures.map(failureSentence).join('; ') || 'fail', 300)}`;
}

function countCell(n: number | null): string {
  return n === null ? '-' : formatCount(n);
}

/** The table: one row per model (and one per expected model without a report), then the total. */
function table(a: Aggregate): string {
  const rows = a.models.map((m) => [
    code(m.key, 100),
    `${countCell(m.base)} → ${countCell(m.head)}`,
    m.delta === null ? '-' : formatSigned(m.delta),
    m.delta === null || m.base === null ? '' : formatPercent(m.delta, m.base),
    verdictCell(m),
  ]);
  for (const key of a.missing) rows.push([code(key, 100), '-', '-', '', '❌ no report: its job wrote none']);
  for (const u of a.unavailable)
    rows.push([code(u.key, 100), '-', '-', '', `❌ could not analyze: ${escapeLine(u.reason, 300)}`]);
  if (a.total && a.models.length > 1) {
    rows.push([
      '**total**',
      `${formatCount(a.total.base)} → ${formatCount(a.total.head)}`,
      formatSigned(a.total.delta),
      formatPercent(a.total.delta, a.total.base),
      '',
    ]);
  }
  return markdownTable([['Model', `${a.metric} (base → head)`, 'change', '%', 'verdict'], ...rows], {
    align: ['l', 'r', 'r', 'r', 'l'],
    alignDelimiters: false,
  });
}

function section(m: ModelVerdict, body: string): string {
  // The model's own marker line is dropped: this comment has one marker, the aggregate's.
  // Its headline one level below the aggregate's.
  const content = body.split('\n').slice(1).join('\n').trim().replace(/^### /, '#### ');
  const summary = `${m.pass ? '✅' : '❌'} ${code(m.key, 100)}: ${m.pass ? 'pass' : 'fail'}`;
  // A failing model's section is open: it is what the reviewer has to read.
  return `<details${m.pass ? '' : ' open'}><summary>${summary}</summary>\n\n${content}\n\n</details>\n`;
}

function runLine(links: CommentLinks | undefined): string {
  const run = links?.run && URL_OK.test(links.run) ? links.run : undefined;
  const page = links?.page && URL_OK.test(links.page) ? links.page : undefined;
  const parts = [
    'paramtrace',
    ...(run ? [`[Workflow run and job summary](${run})`] : []),
    ...(page ? [`[HTML reports](${page})`] : []),
  ];
  return `<sub>${parts.join(' · ')}</sub>\n`;
}

/** The shortest a model's section may be made; below it the section is left out instead. */
const MIN_SECTION = 3000;

export function renderAggregateComment(a: Aggregate, options: AggregateCommentOptions): string {
  const limit = options.maxLength ?? COMMENT_LIMIT;
  const top = [
    commentMarker(options.commentKey),
    `### paramtrace: ${escapeLine(aggregateHeadline(a))}`,
    '',
    table(a),
    '',
  ].join('\n');
  const foot = runLine(options.links);
  // Failing models keep their section longest: passing ones are left out first.
  const priority = [...a.models].sort((x, y) => Number(x.pass) - Number(y.pass));
  for (let kept = priority.length; kept >= 0; kept--) {
    const shown = new Set(priority.slice(0, kept).map((m) => m.key));
    const left = a.models.filter((m) => !shown.has(m.key)).map((m) => m.key);
    const note = left.length === 0 ? '' : `${leftOutNote(left, options.links)}\n\n`;
    const budget = limit - top.length - foot.length - note.length - 200;
    const share = kept === 0 ? 0 : Math.floor(budget / kept);
    if (kept > 0 && share < MIN_SECTION) continue;
    const sections = a.models
      .filter((m) => shown.has(m.key))
      .map((m) => section(m, renderComment(m.comparison, sectionOptions(m, options, share - 200))));
    const body = `${top}\n${sections.join('\n')}${sections.length > 0 ? '\n' : ''}${note}${foot}`;
    if (body.length <= limit) return body;
  }
  // Only a table too long for a comment gets here (the mode caps the number of models well below that).
  return `${top.slice(0, limit - foot.length - 200)}\n\n_Cut to fit GitHub's limit._\n\n${foot}`;
}

function sectionOptions(m: ModelVerdict, options: AggregateCommentOptions, maxLength: number) {
  const detail = options.details.get(m.key);
  return {
    commentKey: m.key,
    maxLength,
    headReport: detail?.headReport,
    baseReport: detail?.baseReport,
    links: detail?.links ?? options.links,
    footer: (detail?.notes ?? []).map((n) => escapeText(n, 300)).join(' · '),
  };
}

function leftOutNote(keys: string[], links: CommentLinks | undefined): string {
  const summary =
    links?.summary && URL_OK.test(links.summary) ? `the [job summary](${links.summary})` : 'the job summary';
  return `_The report${keys.length === 1 ? '' : 's'} of ${keys.map((k) => code(k, 100)).join(', ')} ${keys.length === 1 ? 'is' : 'are'} left out to fit GitHub's limit of ${formatCount(COMMENT_LIMIT)} characters: every model's full report is in ${summary} and the report file._`;
}

/** The job summary: the same verdict and table, then every model's summary in full (no marker). */
export function renderAggregateSummary(
  a: Aggregate,
  details: ReadonlyMap<string, ModelDetail>,
  links?: CommentLinks,
): string {
  const parts = [`### paramtrace: ${escapeLine(aggregateHeadline(a))}`, '', table(a), ''];
  let size = Buffer.byteLength(parts.join('\n'));
  for (const m of a.models) {
    const detail = details.get(m.key);
    const body = renderSummary(m.comparison, detail?.headReport, {
      baseReport: detail?.baseReport,
      links: detail?.links ?? links,
    });
    const block = `---\n\n#### Model ${code(m.key, 100)}\n\n${body.replace(/^### /, '##### ')}\n`;
    size += Buffer.byteLength(block);
    // appendSummary cuts at 1 MiB anyway; stopping at a model's boundary keeps what is shown whole.
    if (size > SUMMARY_LIMIT - 4096) {
      parts.push(
        `_The remaining models' reports do not fit GitHub's 1 MiB job summary: they are in the report file._`,
      );
      break;
    }
    parts.push(block);
  }
  return `${parts.join('\n')}\n`;
}
