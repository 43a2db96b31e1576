// The end every comparing mode shares (mode: pr after building, mode: post after reading the artifact):
// compare the two sides, render the comment, write the report file and the job summary (before anything
// can fail at the API), publish, and turn the verdict and the API's problems into the run's result.
import { writeFileSync } from 'node:fs';
import { compare, thresholdsWithoutBase } from '../../compare/compare.ts';
import type { Comparison } from '../../compare/comparison.ts';
import { escapeText } from '../../render/escape.ts';
import { renderComment, renderSummary, type CommentLinks } from '../../render/markdown.ts';
import { verdictHeadline } from '../../render/verdict.ts';
import type { Report } from '../../report/report.ts';
import type { ActionInputs } from '../inputs.ts';
import type { RunContext } from '../context.ts';
import { emptyReport } from '../models/analyze-model.ts';
import { appendSummary } from '../publishing/job-summary.ts';
import { comparisonOutputs, footer } from '../publishing/outputs.ts';
import {
  htmlPathFor,
  makeBundle,
  reportPathFor,
  serializeBundle,
  type BundlePullRequest,
  type ReportBundle,
} from '../report-file.ts';
import type { Thresholds } from '../../compare/comparison.ts';
import { renderHtmlReport } from '../../render/html.ts';
import { uploadPages } from '../publishing/html-artifact.ts';
import type { Io, RunResult } from '../runner-log.ts';

/** One model's two sides as analyzed. */
export interface ModelSides {
  head: Report;
  /** Null when there is no base: the model is new (`baseError` unset) or the base failed to build. */
  base: Report | null;
  /** Why the base could not be had (its build failed): the verdict fails with it. */
  baseError?: string | undefined;
  /** What the run had to work around, shown in the footer and kept in the report file. */
  notes: string[];
}

/** The sides of a mode: pr or mode: post run, with what the comment says about where they came from. */
export interface Sides extends ModelSides {
  /** The commits compared, and how the base was had (`baseline artifact`), for the footer. */
  commits: { head: string | null; base: string | null; baseHow?: string | undefined };
  pullRequest: BundlePullRequest | null;
  /** The comment's links (the run, the report artifact, the commits); they replace the footer's commits and run link. */
  links?: CommentLinks | undefined;
}

/** Publishes the comment and status (or not); its outputs join the step's, its problems may fail it. */
export type Publisher = (
  comparison: Comparison,
  body: string,
) => Promise<{ outputs: Record<string, string>; problems: string[] }>;

/** The comparison of one model's sides, with the base it was made against (an empty model when none). */
export function compareSides(
  sides: Pick<ModelSides, 'head' | 'base' | 'baseError'>,
  thresholds: Thresholds,
): { base: Report; comparison: Comparison } {
  const base =
    sides.base ??
    emptyReport(
      sides.head.model.file,
      sides.baseError
        ? 'no baseline: the base could not be built'
        : 'no baseline: the model does not exist at the base',
    );
  // Without a base only max-params applies; a base that could not be built fails the verdict.
  const limits = sides.base ? thresholds : thresholdsWithoutBase(thresholds);
  return { base, comparison: compare(base, sides.head, limits, { baseUnavailable: sides.baseError }) };
}

/** The report file of one model of a mode: pr run (what mode: post and mode: aggregate read back). */
export function prBundle(
  commentKey: string,
  sides: ModelSides,
  made: {
    base: Report;
    comparison: Comparison;
    commits: { head: string | null; base: string | null };
    pr: BundlePullRequest | null;
  },
): ReportBundle {
  return makeBundle({
    mode: 'pr',
    commentKey,
    commits: { head: made.commits.head, base: made.commits.base },
    pullRequest: made.pr,
    base: made.base,
    head: sides.head,
    comparison: made.comparison,
    notes: sides.notes,
    ...(sides.baseError ? { baseError: sides.baseError } : sides.base ? {} : { baseMissing: true as const }),
  });
}

export async function finishComparison(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  sides: Sides,
  publishTo: Publisher,
): Promise<RunResult> {
  const { base, comparison } = compareSides(sides, inputs.thresholds);
  // The report file and its page first: whatever happens with the API, they are there.
  const reportPath = reportPathFor(inputs, ctx);
  writeFileSync(
    reportPath,
    serializeBundle(
      prBundle(inputs.commentKey, sides, { base, comparison, commits: sides.commits, pr: sides.pullRequest }),
    ),
  );
  // The same as a page to look at (treemap, layer table, comparison), uploaded for the comment to link.
  const htmlPath = htmlPathFor(reportPath);
  writeFileSync(htmlPath, renderHtmlReport({ base, head: sides.head, comparison }));
  const page = await uploadPages(inputs, ctx, io, [htmlPath]);
  const links = sides.links && { ...sides.links, page: page.url };

  const extra = sides.notes.map((n) => escapeText(n, 300));
  const body = renderComment(comparison, {
    commentKey: inputs.commentKey,
    headReport: sides.head,
    baseReport: base,
    links,
    footer: links
      ? extra.join(' · ')
      : footer({
          baseSha: sides.commits.base,
          baseHow: sides.commits.baseHow,
          headSha: sides.commits.head,
          runUrl: ctx.runUrl,
          extra,
        }),
  });
  appendSummary(ctx.stepSummaryPath, renderSummary(comparison, sides.head, { baseReport: base, links }));
  const headline = verdictHeadline(comparison);
  io.info(`paramtrace: ${headline}`);
  io.info(`paramtrace: report written to ${reportPath}`);

  const published = await publishTo(comparison, body);
  const failures = [
    ...(comparison.verdict.pass ? [] : [headline]),
    ...(inputs.failOnApiError ? [...(page.problem ? [page.problem] : []), ...published.problems] : []),
  ];
  return {
    outputs: {
      ...comparisonOutputs(comparison),
      ...published.outputs,
      'report-path': reportPath,
      'html-report-path': htmlPath,
      'html-report-url': page.url ?? '',
      'comment-body': body,
    },
    failure: failures.length > 0 ? failures.join('\n') : null,
  };
}
