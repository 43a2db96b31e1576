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
} from '../report-file.ts';
import { renderHtmlReport } from '../../render/html.ts';
import { uploadPages } from '../publishing/html-artifact.ts';
import type { Io, RunResult } from '../runner-log.ts';

export interface Sides {
  head: Report;
  /** Null when there is no base: the model is new (`baseError` unset) or the base failed to build. */
  base: Report | null;
  /** Why the base could not be had (its build failed): the verdict fails with it. */
  baseError?: string | undefined;
  /** The commits compared, and how the base was had (`baseline artifact`), for the footer. */
  commits: { head: string | null; base: string | null; baseHow?: string | undefined };
  pullRequest: BundlePullRequest | null;
  /** What the run had to work around, shown in the footer and kept in the report file. */
  notes: string[];
  /** The comment's links (the run, the report artifact, the commits); they replace the footer's commits and run link. */
  links?: CommentLinks | undefined;
}

/** Publishes the comment and status (or not); its outputs join the step's, its problems may fail it. */
export type Publisher = (
  comparison: Comparison,
  body: string,
) => Promise<{ outputs: Record<string, string>; problems: string[] }>;

export async function finishComparison(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  sides: Sides,
  publishTo: Publisher,
): Promise<RunResult> {
  // Without a base only max-params applies; a base that could not be built fails the verdict.
  const thresholds = sides.base ? inputs.thresholds : thresholdsWithoutBase(inputs.thresholds);
  const base =
    sides.base ??
    emptyReport(
      sides.head.model.file,
      sides.baseError
        ? 'no baseline: the base could not be built'
        : 'no baseline: the model does not exist at the base',
    );
  const comparison = compare(base, sides.head, thresholds, { baseUnavailable: sides.baseError });
  // The report file and its page first: whatever happens with the API, they are there.
  const reportPath = reportPathFor(inputs, ctx);
  const bundle = makeBundle({
    mode: 'pr',
    commentKey: inputs.commentKey,
    commits: { head: sides.commits.head, base: sides.commits.base },
    pullRequest: sides.pullRequest,
    base,
    head: sides.head,
    comparison,
    notes: sides.notes,
    ...(sides.baseError ? { baseError: sides.baseError } : sides.base ? {} : { baseMissing: true as const }),
  });
  writeFileSync(reportPath, serializeBundle(bundle));
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
