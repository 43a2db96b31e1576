// Finding the pull request a run is about, when the event does not say (a workflow_run for a pull request
// from a fork has an empty `pull_requests`).
import type { GitHubClient } from './octokit.ts';
import { isNotFound } from './errors.ts';

export interface PullRequestInfo {
  number: number;
  state: string;
  headSha: string;
  headRepo: string | null;
  headRef: string;
  baseSha: string;
  baseRef: string;
}

export interface RepoRef {
  owner: string;
  repo: string;
}

interface PullLike {
  number: number;
  state: string;
  head: { sha: string; ref: string; repo: { full_name: string } | null };
  base: { sha: string; ref: string };
}

function info(pr: PullLike): PullRequestInfo {
  return {
    number: pr.number,
    state: pr.state,
    headSha: pr.head.sha,
    headRepo: pr.head.repo?.full_name ?? null,
    headRef: pr.head.ref,
    baseSha: pr.base.sha,
    baseRef: pr.base.ref,
  };
}

export async function getPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  number: number,
): Promise<PullRequestInfo | undefined> {
  try {
    const { data } = await client.rest.pulls.get({ owner: repo.owner, repo: repo.repo, pull_number: number });
    return info(data);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The open pull request whose head is `sha` (preferring one from `headRepo` on `headRef` when given). GitHub
 * lists the pull requests associated with a commit, including ones from forks once the commit is in the
 * base repository's pull refs.
 */
export async function findPullRequestForSha(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  prefer: { headRepo?: string | undefined; headRef?: string | undefined } = {},
): Promise<PullRequestInfo | undefined> {
  const candidates: PullRequestInfo[] = [];
  const pages = client.paginate.iterator(client.rest.repos.listPullRequestsAssociatedWithCommit, {
    owner: repo.owner,
    repo: repo.repo,
    commit_sha: sha,
    per_page: 100,
  });
  try {
    for await (const page of pages) {
      for (const pr of page.data) if (pr.head.sha === sha) candidates.push(info(pr));
    }
  } catch (error) {
    // 422: GitHub does not know the commit; 404: no such repository.
    if (isNotFound(error) || (error as { status?: number }).status === 422) return undefined;
    throw error;
  }
  const open = candidates.filter((pr) => pr.state === 'open');
  const pool = open.length > 0 ? open : candidates;
  const lower = (s: string | null | undefined) => (s ?? '').toLowerCase();
  const preferred = pool.find(
    (pr) =>
      (prefer.headRepo === undefined || lower(pr.headRepo) === lower(prefer.headRepo)) &&
      (prefer.headRef === undefined || pr.headRef === prefer.headRef),
  );
  return preferred ?? (pool.length === 1 ? pool[0] : undefined);
}
