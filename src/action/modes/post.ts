// mode: post — in a `workflow_run` workflow after a pull request's run, with a write token and without
// checking out the pull request's code: read the report artifact that run uploaded (untrusted: validated
// field by field), recompute the comparison with this workflow's thresholds, and post the comment and
// the status on the pull request's head commit. When there is no report to post (part 1 failed, was
// cancelled or timed out before uploading it, or its artifact is refused), a `commit-status: true` run sets
// a failed status, so that a required check never waits for one that will not come.
import type { GitHubClient } from '../../github/octokit.ts';
import { findPullRequestForSha, getPullRequest } from '../../github/pulls.ts';
import { apiFailure, describeFailure } from '../../github/errors.ts';
import { escapeText } from '../../render/escape.ts';
import { reportFileName } from '../report-file.ts';
import { finishComparison } from './finish.ts';
import { commentLinks, type RunContext, type WorkflowRunEvent } from '../context.ts';
import type { ActionInputs } from '../inputs.ts';
import { DEFAULT_COMMENT_KEY } from '../inputs.ts';
import type { Io, RunResult } from '../runner-log.ts';
import { ActionError } from '../runner-log.ts';
import { publish } from '../publishing/publish.ts';
import { clientFor, failStatus, publishLog, publishRequestFor } from '../publishing/client.ts';
import {
  locateBundle,
  MissingArtifactError,
  readBaseline,
  readBundle,
  UntrustedInputError,
} from '../untrusted/read-bundle.ts';

/** The followed run's page (its `html_url`): the log that says why it wrote no report. */
function followedRunUrl(ctx: RunContext, run: WorkflowRunEvent): string {
  return `${ctx.serverUrl}/${ctx.repository.owner}/${ctx.repository.repo}/actions/runs/${run.id}`;
}

/** The pull request the run was for, trusting only GitHub: the event, then the API, then a checked claim. */
export async function findPullRequest(
  client: GitHubClient,
  ctx: RunContext,
  run: WorkflowRunEvent,
  claimed: number,
  io: Io,
): Promise<number | null> {
  const listed = run.pullRequests.find((p) => p.headSha === run.headSha);
  if (listed) return listed.number;
  const repo = ctx.repository;
  try {
    const found = await findPullRequestForSha(client, repo, run.headSha, {
      headRepo: run.headRepo ?? undefined,
      headRef: run.headBranch ?? undefined,
    });
    if (found) return found.number;
    // The artifact names a pull request: believe it only if GitHub says its head is this run's commit.
    const pr = await getPullRequest(client, repo, claimed);
    if (pr && pr.headSha === run.headSha) return pr.number;
    if (pr)
      io.info(
        `pull request #${claimed} named by the artifact has head ${pr.headSha.slice(0, 12)}, not ${run.headSha.slice(0, 12)}`,
      );
  } catch (error) {
    io.warning(
      `paramtrace could not look up the pull request for ${run.headSha.slice(0, 12)} (${describeFailure(apiFailure(error))}); the report is in the job summary.`,
    );
    return null;
  }
  return null;
}

/** The status for a refused artifact: fixed text, nothing from the artifact (the log has the details). */
const REFUSED = `paramtrace refused the report artifact of the pull request's run (the reason is in the linked log)`;

export async function runPost(inputs: ActionInputs, ctx: RunContext, io: Io): Promise<RunResult> {
  const run = ctx.workflowRun;
  if (!run)
    throw new ActionError(`mode: post runs on a workflow_run event, not '${ctx.eventName || 'unknown'}'`);
  if (run.event !== 'pull_request' && run.event !== 'pull_request_target') {
    io.notice(
      `paramtrace: the workflow run was triggered by '${escapeText(run.event, 40)}', not a pull request; nothing to post`,
    );
    return { outputs: { verdict: '', 'comment-body': '', 'report-path': '' }, failure: null };
  }

  let bundle;
  let baseline = null;
  try {
    const file = locateBundle(inputs.artifactPath, reportFileName(inputs.commentKey, DEFAULT_COMMENT_KEY));
    bundle = readBundle(file);
    // A baseline bundle has a head report but no pull request and no base: it is the base of later runs.
    if (bundle.mode !== 'pr' || !bundle.pullRequest || !bundle.base) {
      throw new UntrustedInputError(
        `it is a mode: ${bundle.mode} bundle, not the report of a mode: pr run (mode: post takes the artifact that mode: pr wrote on the pull request; a baseline artifact goes to base-report)`,
      );
    }
    if (inputs.baseReport) baseline = readBaseline(inputs.baseReport);
  } catch (error) {
    if (error instanceof MissingArtifactError) {
      // GitHub's own word (success, failure, cancelled, timed_out, ...); anything else is not repeated.
      const conclusion = /^[a-z_]{1,40}$/.test(run.conclusion ?? '') ? run.conclusion : 'unknown';
      if (run.conclusion === 'skipped') {
        // Part 1's job was skipped by its own `if:`: nothing ran, so there is nothing to report or fail.
        io.notice(
          `paramtrace: the pull request's paramtrace run was skipped and wrote no report; nothing to post`,
        );
        return { outputs: { verdict: '', 'comment-body': '', 'report-path': '' }, failure: null };
      }
      const what =
        run.conclusion === 'success'
          ? `the pull request's paramtrace run succeeded but its report artifact was not found`
          : `the pull request's paramtrace run concluded '${conclusion}' before writing its report`;
      const status = await failStatus(inputs, ctx, io, {
        headSha: run.headSha,
        description: what,
        targetUrl: followedRunUrl(ctx, run),
      });
      throw new ActionError(`${what} (${error.message}); ${status}. Its log: ${followedRunUrl(ctx, run)}`);
    }
    if (error instanceof UntrustedInputError) {
      const hint =
        run.conclusion && run.conclusion !== 'success'
          ? ` (the pull request run concluded '${run.conclusion}')`
          : '';
      const status = await failStatus(inputs, ctx, io, {
        headSha: run.headSha,
        description: REFUSED,
        targetUrl: ctx.runUrl,
      });
      throw new ActionError(`refusing the report artifact: ${error.message}${hint}; ${status}`);
    }
    throw error;
  }
  const claimed = bundle.pullRequest;
  if (claimed.headSha !== run.headSha) {
    const status = await failStatus(inputs, ctx, io, {
      headSha: run.headSha,
      description: REFUSED,
      targetUrl: ctx.runUrl,
    });
    throw new ActionError(
      `refusing the report artifact: it is for commit ${claimed.headSha}, but the workflow run is for ${run.headSha}; ${status}`,
    );
  }

  // The base this workflow gives (base-report) replaces the artifact's, and with it its absence.
  const noBase = !baseline && (bundle.baseMissing === true || bundle.baseError !== undefined);
  return finishComparison(
    inputs,
    ctx,
    io,
    {
      head: bundle.head,
      base: noBase ? null : (baseline?.report ?? bundle.base),
      baseError: baseline ? undefined : bundle.baseError,
      commits: {
        head: run.headSha,
        base: baseline ? baseline.commit : bundle.commits.base,
        baseHow: baseline ? 'baseline report' : undefined,
      },
      pullRequest: claimed,
      notes: bundle.notes,
      // The report artifact is on the page of the pull request's run, which uploaded it.
      links: commentLinks(
        ctx,
        {
          base: baseline ? baseline.commit : bundle.commits.base,
          head: run.headSha,
          baseHow: baseline ? 'baseline report' : undefined,
        },
        run.id,
      ),
    },
    async (comparison, body) => {
      if (!inputs.token) {
        const problem =
          'no github-token: the comment and status were not posted (the report is in the job summary)';
        io.warning(problem);
        return { outputs: {}, problems: [problem] };
      }
      const client = clientFor(inputs, ctx, io);
      const number = await findPullRequest(client, ctx, run, claimed.number, io);
      if (number === null)
        io.warning(
          `paramtrace found no pull request with head ${run.headSha.slice(0, 12)}; only the status is set`,
        );
      const result = await publish(
        client,
        publishRequestFor(inputs, ctx, { pullNumber: number, headSha: run.headSha }, comparison, body),
        publishLog(io),
      );
      return {
        outputs: { ...result.outputs, 'pull-request': number === null ? '' : String(number) },
        problems: result.problems,
      };
    },
  );
}
