// Posting the comment and the commit status. An API failure is a warning that says what to fix, never a
// lost report (the summary and the report file are written before this runs) and never the verdict.
import type { CommentPolicy } from '../../github/comments.ts';
import { upsertComment } from '../../github/comments.ts';
import {
  apiFailure,
  describeFailure,
  permissionHint,
  type ApiFailure,
  type Permission,
} from '../../github/errors.ts';
import { tokenIdentity } from '../../github/identity.ts';
import type { GitHubClient, Logger } from '../../github/octokit.ts';
import { setCommitStatus, type StatusState } from '../../github/statuses.ts';

export interface PublishRequest {
  owner: string;
  repo: string;
  pullNumber: number | null;
  headSha: string;
  /** `author`: the login whose marked comment may be updated; empty: the token's own identity. */
  comment: { body: string; key: string; policy: CommentPolicy; changed: boolean; author: string };
  status: { context: string; state: StatusState; description: string; targetUrl: string | null } | null;
}

export interface PublishResult {
  outputs: Record<string, string>;
  /** Warnings already logged; returned so `fail-on-api-error` can fail the job on them. */
  problems: string[];
}

function explain(what: string, failure: ApiFailure, permission: Permission): string {
  const base = `paramtrace could not ${what} (${describeFailure(failure)}).`;
  const kept = ' The report is in the job summary and the report file.';
  if (failure.kind === 'forbidden') {
    if (/locked/i.test(failure.message)) return `${base} The pull request is locked.${kept}`;
    return `${base} ${permissionHint(permission)}${kept}`;
  }
  if (failure.kind === 'rate-limited')
    return `${base} GitHub's API rate limit was reached; retrying did not help in time.${kept}`;
  if (failure.kind === 'unavailable') return `${base} GitHub's API did not answer after retries.${kept}`;
  return `${base}${kept}`;
}

export async function publish(
  client: GitHubClient,
  request: PublishRequest,
  log: Logger & { warning(message: string): void },
): Promise<PublishResult> {
  const outputs: Record<string, string> = {
    'comment-action': 'skipped',
    'comment-id': '',
    'comment-url': '',
  };
  const problems: string[] = [];
  if (request.pullNumber !== null && request.comment.policy !== 'never') {
    try {
      const { author, ...comment } = request.comment;
      const identity = author ? () => Promise.resolve(author) : () => tokenIdentity(client);
      const result = await upsertComment(
        client,
        { owner: request.owner, repo: request.repo, issueNumber: request.pullNumber },
        { ...comment, identity, log },
      );
      outputs['comment-action'] = result.action;
      if (result.action === 'skipped') log.info(`comment not posted: ${result.reason}`);
      else {
        outputs['comment-id'] = String(result.id);
        outputs['comment-url'] = result.url;
        log.info(`comment ${result.action}: ${result.url}`);
      }
    } catch (error) {
      const message = explain(`post the pull request comment`, apiFailure(error), 'pull-requests');
      outputs['comment-action'] = 'failed';
      problems.push(message);
      log.warning(message);
    }
  }
  if (request.status) {
    try {
      await setCommitStatus(client, {
        owner: request.owner,
        repo: request.repo,
        sha: request.headSha,
        ...request.status,
      });
      outputs['status-state'] = request.status.state;
      log.info(
        `commit status '${request.status.context}' set to ${request.status.state} on ${request.headSha.slice(0, 12)}`,
      );
    } catch (error) {
      const message = explain(
        `set the commit status '${request.status.context}'`,
        apiFailure(error),
        'statuses',
      );
      outputs['status-state'] = 'failed';
      problems.push(message);
      log.warning(message);
    }
  }
  return { outputs, problems };
}
