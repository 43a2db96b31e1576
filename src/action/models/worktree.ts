// The base side of a comparison: the merge-base of the pull request, checked out in a temporary git
// worktree next to the workspace, built there, and removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { git, GitError } from './exec.ts';

export interface BaseCommit {
  sha: string;
  /** `merge-base`: where the pull request branched off; `base`: the base branch tip (no merge-base found). */
  how: 'merge-base' | 'base';
  note?: string;
}

async function hasCommit(repo: string, sha: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await git(['cat-file', '-e', `${sha}^{commit}`], repo, env);
    return true;
  } catch {
    return false;
  }
}

/** The commit to compare against: the merge-base of the base sha and HEAD, fetching the base if missing. */
export async function resolveBaseCommit(
  repo: string,
  baseSha: string,
  env: NodeJS.ProcessEnv,
): Promise<BaseCommit> {
  if (!(await hasCommit(repo, baseSha, env))) {
    try {
      await git(['fetch', '--no-tags', '--quiet', 'origin', baseSha], repo, env);
    } catch {
      // reported below
    }
    if (!(await hasCommit(repo, baseSha, env))) {
      throw new GitError(
        `the base commit ${baseSha} is not in the checkout and could not be fetched; ` +
          'check out with `actions/checkout` and `fetch-depth: 0`, or give `base-model` / `base-report`',
      );
    }
  }
  try {
    const sha = await git(['merge-base', baseSha, 'HEAD'], repo, env);
    if (/^[0-9a-f]{40,64}$/.test(sha)) return { sha, how: 'merge-base' };
  } catch {
    // shallow or unrelated histories
  }
  return {
    sha: baseSha,
    how: 'base',
    note: `no merge-base of ${baseSha.slice(0, 12)} and HEAD in the checkout (shallow clone?); compared with the base branch tip. Use fetch-depth: 0 to compare with the merge-base.`,
  };
}

/** Checks out `sha` in a fresh worktree under `tempDir`, runs `fn` there, and removes the worktree. */
export async function withWorktree<T>(
  repo: string,
  sha: string,
  tempDir: string,
  env: NodeJS.ProcessEnv,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const parent = mkdtempSync(join(tempDir, 'paramtrace-base-'));
  const dir = join(parent, 'tree');
  try {
    await git(['worktree', 'add', '--detach', '--force', dir, sha], repo, env);
    return await fn(dir);
  } finally {
    try {
      await git(['worktree', 'remove', '--force', dir], repo, env);
    } catch {
      // removed below; prune forgets it
    }
    rmSync(parent, { recursive: true, force: true });
    await git(['worktree', 'prune'], repo, env).catch(() => undefined);
  }
}
