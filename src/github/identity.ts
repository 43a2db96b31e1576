// Who the token acts as: the only author whose marked comments paramtrace may update. Anyone can write a
// comment that starts with paramtrace's marker; updating such a comment would let them own the report.
import { apiFailure } from './errors.ts';
import type { GitHubClient } from './octokit.ts';

/** The bot that `GITHUB_TOKEN` (the workflow's installation token) writes as. */
export const GITHUB_ACTIONS_BOT = 'github-actions[bot]';

/** A GitHub login: a user (`alice`, `a-b`) or an app's bot (`my-app[bot]`). */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

export function isLogin(text: string): boolean {
  return LOGIN.test(text);
}

/**
 * The login the token writes comments as. A personal access token has a user (GET /user). An
 * installation token has none: GitHub answers GET /user with 403, and the token is taken to be
 * `GITHUB_TOKEN`, which writes as github-actions[bot]; another GitHub App's token needs `comment-author`
 * (its `<app-slug>[bot]`), else paramtrace finds none of its comments and posts new ones.
 */
export async function tokenIdentity(client: GitHubClient): Promise<string> {
  try {
    const { data } = await client.rest.users.getAuthenticated();
    if (!isLogin(data.login)) throw new Error(`GET /user returned an invalid login`);
    return data.login;
  } catch (error) {
    if (apiFailure(error).status === 403) return GITHUB_ACTIONS_BOT;
    throw error;
  }
}
