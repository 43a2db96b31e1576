// The commit status on the pull request's head commit: a fixed context a branch protection rule can require.
import type { GitHubClient } from './octokit.ts';

export type StatusState = 'success' | 'failure' | 'error' | 'pending';

export interface CommitStatus {
  owner: string;
  repo: string;
  sha: string;
  state: StatusState;
  context: string;
  /** One line; GitHub allows 140 characters, longer is cut with an ellipsis. */
  description: string;
  targetUrl?: string | null | undefined;
}

export const STATUS_DESCRIPTION_LIMIT = 140;

/** `paramtrace` for the default comment key, `paramtrace/<key>` otherwise: stable across runs. */
export function statusContext(commentKey: string, defaultKey = 'default'): string {
  return commentKey === defaultKey ? 'paramtrace' : `paramtrace/${commentKey}`;
}

export function statusDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length <= STATUS_DESCRIPTION_LIMIT
    ? line
    : `${chars.slice(0, STATUS_DESCRIPTION_LIMIT - 1).join('')}…`;
}

export async function setCommitStatus(client: GitHubClient, status: CommitStatus): Promise<{ id: number }> {
  const { data } = await client.rest.repos.createCommitStatus({
    owner: status.owner,
    repo: status.repo,
    sha: status.sha,
    state: status.state,
    context: status.context,
    description: statusDescription(status.description),
    ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
  });
  return { id: data.id };
}
