// Posting from a run: the API client made from the inputs, and the comment and status a comparison asks for.
import { createClient, type GitHubClient } from '../../github/octokit.ts';
import type { RunContext } from '../context.ts';
import { DEFAULT_COMMENT_KEY, type ActionInputs } from '../inputs.ts';
import type { Io } from '../runner-log.ts';
import { publish, type PublishRequest, type PublishResult } from './publish.ts';
import type { Comparison } from '../../compare/comparison.ts';
import { STATUS_DESCRIPTION_LIMIT, statusContext } from '../../github/statuses.ts';
import { plainLine } from '../../report/plain-line.ts';
import { verdictHeadline } from '../../render/verdict.ts';
import { hasChanges } from './outputs.ts';

/** The API client for the inputs' token; Octokit's own warnings become info (publish() explains failures). */
export function clientFor(inputs: ActionInputs, ctx: RunContext, io: Io): GitHubClient {
  return createClient({
    token: inputs.token,
    baseUrl: ctx.apiUrl,
    timeoutMs: inputs.apiTimeoutSeconds * 1000,
    proxy: ctx.proxy,
    log: { debug: (m) => io.debug(m), info: (m) => io.info(m), warn: (m) => io.info(m) },
  });
}

export function publishLog(io: Io) {
  return {
    debug: (m: string) => io.debug(m),
    info: (m: string) => io.info(m),
    warn: (m: string) => io.warning(m),
    warning: (m: string) => io.warning(m),
  };
}

export async function publishWithClient(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  request: PublishRequest,
): Promise<PublishResult> {
  if (request.comment.policy === 'never' && !request.status)
    return { outputs: { 'comment-action': 'skipped' }, problems: [] };
  if (!inputs.token) {
    const message =
      'no github-token: the comment and status were not posted (the report is in the job summary)';
    io.warning(message);
    return { outputs: { 'comment-action': 'failed' }, problems: [message] };
  }
  const client = clientFor(inputs, ctx, io);
  return publish(client, request, publishLog(io));
}

/** What to post for a comparison on a pull request's head commit: the comment, and the status if asked. */
export function publishRequestFor(
  inputs: ActionInputs,
  ctx: RunContext,
  target: { pullNumber: number | null; headSha: string },
  comparison: Comparison,
  body: string,
): PublishRequest {
  return {
    owner: ctx.repository.owner,
    repo: ctx.repository.repo,
    pullNumber: target.pullNumber,
    headSha: target.headSha,
    comment: {
      body,
      key: inputs.commentKey,
      policy: inputs.comment,
      changed: hasChanges(comparison),
      author: inputs.commentAuthor,
    },
    status: inputs.commitStatus
      ? {
          context: statusContext(inputs.commentKey, DEFAULT_COMMENT_KEY),
          state: comparison.verdict.pass ? 'success' : 'failure',
          // One line of at most 140 characters (GitHub's limit), names escaped.
          description: plainLine(verdictHeadline(comparison), STATUS_DESCRIPTION_LIMIT),
          targetUrl: ctx.runUrl,
        }
      : null,
  };
}

/**
 * Sets a failed status on `headSha` when there is nothing to post (mode post, mode aggregate), so that a
 * required check does not wait for one that will not come. Only with `commit-status: true`: otherwise no
 * run sets that status, and a later successful run would never replace a failure set here. Says what it did.
 */
export async function failStatus(
  inputs: ActionInputs,
  ctx: RunContext,
  io: Io,
  target: { headSha: string; description: string; targetUrl: string | null },
): Promise<string> {
  const context = statusContext(inputs.commentKey, DEFAULT_COMMENT_KEY);
  if (!inputs.commitStatus) return `no commit status set (commit-status is false)`;
  if (!inputs.token) {
    const message = `no github-token: the commit status '${context}' could not be set to failure`;
    io.warning(message);
    return message;
  }
  const result = await publish(
    clientFor(inputs, ctx, io),
    {
      owner: ctx.repository.owner,
      repo: ctx.repository.repo,
      pullNumber: null,
      headSha: target.headSha,
      comment: { body: '', key: inputs.commentKey, policy: 'never', changed: false, author: '' },
      status: { context, state: 'failure', description: target.description, targetUrl: target.targetUrl },
    },
    publishLog(io),
  );
  return result.outputs['status-state'] === 'failure'
    ? `the commit status '${context}' on ${target.headSha.slice(0, 12)} is set to failure`
    : `the commit status '${context}' could not be set (see the warning above)`;
}
