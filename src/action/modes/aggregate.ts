// mode: aggregate — after matrix jobs that each ran `mode: pr` for one model (its own `comment-key`,
// `comment: never`) and uploaded its report file: read every report (untrusted: validated as mode: post
// validates its artifact), check that each is for this pull request's head commit, recompute each model's
// comparison with this step's thresholds, and post ONE comment and ONE commit status for all of them.
// The verdict fails when any model fails, or when a model named in `expected-keys` has no report.
// On `pull_request` the event names the pull request; on `workflow_run` (the fork-safe pair with a matrix
// in part 1) the followed run's head commit does, and the pull request is found as mode: post finds it.
import { lstatSync, writeFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { aggregate, type Aggregate, type ModelUnavailable } from '../../compare/aggregate.ts';
import type { Comparison } from '../../compare/comparison.ts';
import { statusContext, STATUS_DESCRIPTION_LIMIT } from '../../github/statuses.ts';
import {
  aggregateHeadline,
  renderAggregateComment,
  renderAggregateSummary,
  type ModelDetail,
} from '../../render/aggregate-markdown.ts';
import { plainLine } from '../../report/plain-line.ts';
import { escapeText } from '../../render/escape.ts';
import type { Report } from '../../report/report.ts';
import { TOOL_VERSION } from '../../version.ts';
import { commentLinks, type RunContext, type WorkflowRunEvent } from '../context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from '../inputs.ts';
import { compareSides } from './finish.ts';
import { appendSummary } from '../publishing/job-summary.ts';
import { clientFor, failStatus, publishWithClient } from '../publishing/client.ts';
import { findPullRequest } from './post.ts';
import { hasChanges } from '../publishing/outputs.ts';
import { uploadPages } from '../publishing/html-artifact.ts';
import { reportPathFor, type ReportBundle } from '../report-file.ts';
import { ActionError, type Io, type RunResult } from '../runner-log.ts';
import { readBundle, UntrustedInputError } from '../untrusted/read-bundle.ts';

/** At most this many reports: a comment has room for every model's row and a short section each. */
export const MAX_REPORTS = 100;

/** The name every report file of `mode: pr` has (report-file.ts): what a directory is searched for. */
const REPORT_FILES = '**/paramtrace-report*.json';

/** The combined report file's `kind`. */
export const AGGREGATE_KIND = 'paramtrace-aggregate';

/**
 * What every report must be about: the pull request's head commit, from its head repository. `number` is
 * null on workflow_run, where the reports name it (they must all name the same one).
 */
export interface Target {
  number: number | null;
  headSha: string;
  headRepo: string | null;
  /** The followed run (workflow_run), whose page has the report artifacts. */
  run: WorkflowRunEvent | null;
}

/** No report file where `reports` points: not a refusal of any file's content. */
class NoReportsError extends ActionError {}

/** One model's report, read and checked (or made by this run). */
export interface ModelReport {
  file: string;
  bundle: ReportBundle;
  comparison: Comparison;
  base: Report;
}

/**
 * The report files `reports` names: a directory (every `paramtrace-report*.json` under it, as
 * actions/download-artifact lays out one folder per artifact), a glob, or one file. Symbolic links are
 * not followed (readBundle refuses a linked file too).
 */
export async function findReports(reports: string, workspace: string): Promise<string[]> {
  const where = isAbsolute(reports) ? reports : resolve(workspace, reports);
  let files: string[];
  if (isDynamicPattern(reports)) {
    files = await glob(reports, {
      cwd: workspace,
      absolute: true,
      onlyFiles: true,
      followSymbolicLinks: false,
      expandDirectories: false,
    });
  } else {
    let stat;
    try {
      stat = lstatSync(where);
    } catch {
      throw new NoReportsError(
        `no report files: '${reports}' does not exist (check that the matrix jobs uploaded their reports and that actions/download-artifact ran)`,
      );
    }
    if (stat.isSymbolicLink())
      throw new ActionError(`'${reports}' is a symbolic link; refusing to follow it`);
    files = stat.isDirectory()
      ? await glob(REPORT_FILES, { cwd: where, absolute: true, onlyFiles: true, followSymbolicLinks: false })
      : [where];
  }
  if (files.length === 0) {
    throw new NoReportsError(
      `no report files found at '${reports}'${isDynamicPattern(reports) ? '' : ' (a directory is searched for paramtrace-report*.json)'}: check that every matrix job uploaded its report and that actions/download-artifact downloaded them`,
    );
  }
  if (files.length > MAX_REPORTS) {
    throw new ActionError(
      `'${reports}' holds ${files.length} report files, more than the ${MAX_REPORTS} one comment can show`,
    );
  }
  return files.sort();
}

/** Where the bundle says it is from, in words, for a refusal. */
function describeTarget(pr: { number: number | null; headSha: string; headRepo: string | null }): string {
  const number = pr.number === null ? 'the pull request' : `pull request #${pr.number}`;
  return `${number} at commit ${pr.headSha}${pr.headRepo ? ` of ${pr.headRepo}` : ''}`;
}

/** A report is taken only for this pull request's head commit, from its head repository. */
function checkTarget(bundle: ReportBundle, pr: Target): void {
  if (bundle.mode !== 'pr' || !bundle.pullRequest || !bundle.base) {
    throw new UntrustedInputError(
      `a mode: ${bundle.mode} report, not the report of a mode: pr run (each matrix job runs mode: pr)`,
    );
  }
  const claimed = bundle.pullRequest;
  const sameRepo = (claimed.headRepo ?? '').toLowerCase() === (pr.headRepo ?? '').toLowerCase();
  const sameNumber = pr.number === null || claimed.number === pr.number;
  if (!sameNumber || claimed.headSha !== pr.headSha || !sameRepo) {
    throw new UntrustedInputError(
      `it is the report of ${describeTarget(claimed)}, but this run is for ${describeTarget(pr)}`,
    );
  }
}

/** The model's comparison, recomputed with this step's thresholds, as mode: post does. */
function recompare(bundle: ReportBundle, inputs: ActionInputs): { comparison: Comparison; base: Report } {
  const noBase = bundle.baseMissing === true || bundle.baseError !== undefined;
  return compareSides(
    { head: bundle.head, base: noBase ? null : bundle.base!, baseError: bundle.baseError },
    inputs.thresholds,
  );
}

function readReports(files: string[], target: Target, inputs: ActionInputs, workspace: string) {
  // On workflow_run the first report names the pull request, and every other must name the same.
  let pr = target;
  const models: ModelReport[] = [];
  const byKey = new Map<string, string>();
  for (const file of files) {
    const shown = relative(workspace, file).startsWith('..') ? file : relative(workspace, file);
    let bundle: ReportBundle;
    try {
      bundle = readBundle(file);
      checkTarget(bundle, pr);
      pr = { ...pr, number: bundle.pullRequest!.number };
    } catch (error) {
      if (error instanceof UntrustedInputError)
        // readBundle's messages start with the path it was given: the file is named once, as given.
        throw new ActionError(`refusing the report file ${shown}: ${error.message.replace(`${file}: `, '')}`);
      throw error;
    }
    const other = byKey.get(bundle.commentKey);
    if (other !== undefined) {
      throw new ActionError(
        `two report files for the comment key '${bundle.commentKey}': ${other} and ${shown} (give each matrix job its own comment-key)`,
      );
    }
    byKey.set(bundle.commentKey, shown);
    models.push({ file: shown, bundle, ...recompare(bundle, inputs) });
  }
  return models;
}

/** The combined report file: the verdict, and each model's comparison as this step recomputed it. */
function combinedReport(result: Aggregate, models: ModelReport[], inputs: ActionInputs, pr: Target) {
  return {
    schemaVersion: 1,
    kind: AGGREGATE_KIND,
    tool: { name: 'paramtrace', version: TOOL_VERSION },
    commentKey: inputs.commentKey,
    pullRequest: { number: pr.number, headSha: pr.headSha, headRepo: pr.headRepo },
    verdict: {
      pass: result.pass,
      metric: result.metric,
      failed: result.failed,
      missing: result.missing,
      ...(result.unavailable.length > 0 ? { unavailable: result.unavailable } : {}),
    },
    models: models.map((m) => ({
      commentKey: m.bundle.commentKey,
      file: m.file,
      commits: m.bundle.commits,
      comparison: m.comparison,
      notes: m.bundle.notes,
      ...(m.bundle.baseError ? { baseError: m.bundle.baseError } : {}),
    })),
  };
}

/** Fixed text: nothing from the reports (the log says what was wrong with them). */
const NOTHING_TO_AGGREGATE =
  'paramtrace found no report it could aggregate (the reason is in the linked log)';

export async function runAggregate(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  const run = ctx.workflowRun;
  if (run && run.event !== 'pull_request' && run.event !== 'pull_request_target') {
    io.notice(
      `paramtrace: the workflow run was triggered by '${escapeText(run.event, 40)}', not a pull request; nothing to aggregate`,
    );
    return { outputs: { verdict: '', 'comment-body': '', 'report-path': '' }, failure: null };
  }
  const event = ctx.pullRequest;
  const target: Target | null = event
    ? { number: event.number, headSha: event.headSha, headRepo: event.headRepo, run: null }
    : run
      ? { number: null, headSha: run.headSha, headRepo: run.headRepo, run }
      : null;
  if (!target) {
    throw new ActionError(
      `mode: aggregate runs on a pull_request event after the matrix jobs of the same workflow run, or on workflow_run after them; this is '${ctx.eventName || 'unknown'}'`,
    );
  }
  let models: ModelReport[];
  try {
    const files = await findReports(inputs.reports, ctx.workspace);
    io.info(
      `paramtrace: ${files.length} report file${files.length === 1 ? '' : 's'} found at ${inputs.reports}`,
    );
    models = readReports(files, target, inputs, ctx.workspace);
  } catch (error) {
    if (!(error instanceof ActionError)) throw error;
    if (error instanceof NoReportsError && run?.conclusion === 'skipped') {
      // The followed run's jobs were skipped by their own `if:`: nothing ran, nothing to report or fail.
      io.notice(`paramtrace: the pull request's run was skipped and wrote no reports; nothing to aggregate`);
      return { outputs: { verdict: '', 'comment-body': '', 'report-path': '' }, failure: null };
    }
    const status = await failStatus(inputs, ctx, io, {
      headSha: target.headSha,
      description: NOTHING_TO_AGGREGATE,
      targetUrl: ctx.runUrl,
    });
    throw new ActionError(`${error.message}; ${status}`);
  }
  return finishAggregate(inputs, ctx, io, {
    models,
    target: { ...target, number: models[0]!.bundle.pullRequest!.number },
    expected: inputs.expectedKeys,
    unavailable: [],
  });
}

/** What one comment for several models is made of: mode aggregate's reports, or one run's models. */
export interface AggregateInput {
  models: ModelReport[];
  /** The pull request; `number` as the reports claim it (believed on workflow_run only as GitHub confirms it). */
  target: Target;
  expected: string[];
  unavailable: ModelUnavailable[];
  /** Each model's HTML page (one folder), uploaded as one artifact and linked from the comment. */
  pages?: string[];
}

/**
 * The end of a run over several models: one verdict, the combined report file and the job summary (before
 * anything can fail at the API), then one comment and one status.
 */
export async function finishAggregate(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  { models, target: pr, expected, unavailable, pages = [] }: AggregateInput,
): Promise<RunResult> {
  const run = pr.run;
  const result = aggregate(
    models.map((m) => ({ key: m.bundle.commentKey, comparison: m.comparison })),
    { expected, unavailable, metric: inputs.thresholds.metric },
  );
  const page = await uploadPages(inputs, ctx, io, pages);
  // On workflow_run the report artifacts are on the page of the run that uploaded them.
  const runLinks = { ...commentLinks(ctx, { base: null, head: pr.headSha }, run?.id), page: page.url };
  const details = new Map<string, ModelDetail>(
    models.map((m) => [
      m.bundle.commentKey,
      {
        headReport: m.bundle.head,
        baseReport: m.base,
        links: commentLinks(ctx, { base: m.bundle.commits.base, head: pr.headSha }, run?.id),
        notes: m.bundle.notes,
      },
    ]),
  );
  const body = renderAggregateComment(result, { commentKey: inputs.commentKey, details, links: runLinks });

  // The report file and the summary first: whatever happens with the API, they are there.
  const reportPath = reportPathFor(inputs, ctx);
  writeFileSync(reportPath, `${JSON.stringify(combinedReport(result, models, inputs, pr), null, 2)}\n`);
  appendSummary(ctx.stepSummaryPath, renderAggregateSummary(result, details, runLinks));
  const headline = aggregateHeadline(result);
  for (const m of result.models)
    io.info(`paramtrace: ${m.key}: ${m.pass ? 'pass' : 'fail'} (${m.base ?? '-'} → ${m.head ?? '-'})`);
  for (const u of result.unavailable) io.warning(`paramtrace: ${u.key}: could not analyze: ${u.reason}`);
  io.info(`paramtrace: ${headline}`);
  io.info(`paramtrace: report written to ${reportPath}`);

  const changed = !result.pass || result.models.some((m) => hasChanges(m.comparison));
  // On workflow_run the number the reports claim is believed only as GitHub confirms it (as in mode: post).
  let number = run ? null : pr.number;
  if (run && inputs.token) {
    number = await findPullRequest(clientFor(inputs, ctx, io), ctx, run, pr.number!, io);
    if (number === null)
      io.warning(
        `paramtrace found no pull request with head ${pr.headSha.slice(0, 12)}; only the status is set`,
      );
  }
  const published = await publishWithClient(inputs, ctx, io, {
    owner: ctx.repository.owner,
    repo: ctx.repository.repo,
    pullNumber: number,
    headSha: pr.headSha,
    comment: {
      body,
      key: inputs.commentKey,
      policy: inputs.comment,
      changed,
      author: inputs.commentAuthor,
    },
    status: inputs.commitStatus
      ? {
          context: statusContext(inputs.commentKey, DEFAULT_COMMENT_KEY),
          state: result.pass ? 'success' : 'failure',
          description: plainLine(headline, STATUS_DESCRIPTION_LIMIT),
          targetUrl: ctx.runUrl,
        }
      : null,
  });
  const problems = [...(page.problem ? [page.problem] : []), ...published.problems];
  const failures = [...(result.pass ? [] : [headline]), ...(inputs.failOnApiError ? problems : [])];
  return {
    outputs: {
      verdict: result.pass ? 'pass' : 'fail',
      'verdict-headline': plainLine(headline),
      changed: String(changed),
      'failed-keys': [...result.failed, ...result.missing, ...result.unavailable.map((u) => u.key)].join(' '),
      ...published.outputs,
      'pull-request': number === null ? '' : String(number),
      'report-path': reportPath,
      ...(pages.length > 0 ? { 'html-report-url': page.url ?? '' } : {}),
      'comment-body': body,
    },
    failure: failures.length > 0 ? failures.join('\n') : null,
  };
}
