// One sticky comment per pull request and comment key, found by a hidden marker on its first line and
// its author (the identity the token writes as: anyone can start a comment with the marker), and updated
// in place. Two runs for one pull request at once still leave one comment: each re-checks
// right before creating, and a run that finds an older marked comment after creating its own deletes
// its own and updates the older one.
import type { GitHubClient, Logger } from './octokit.ts';
import { apiFailure, isNotFound } from './errors.ts';
import { isLogin } from './identity.ts';
import { commentMarker as renderedMarker, isCommentKey } from '../render/comment-marker.ts';

export interface IssueRef {
  owner: string;
  repo: string;
  issueNumber: number;
}

export interface FoundComment {
  id: number;
  body: string;
  url: string;
  /** The author's login; null for a deleted account ("ghost"). */
  author: string | null;
}

export type CommentPolicy = 'always' | 'on-change' | 'never';

export { isCommentKey };

/** The hidden first line that identifies paramtrace's comment for `key` (the one the renderer writes). */
export function commentMarker(key: string): string {
  if (!isCommentKey(key)) throw new Error(`invalid comment key '${key}'`);
  return renderedMarker(key);
}

export function hasMarker(body: string | null | undefined, key: string): boolean {
  if (!body) return false;
  const firstLine = body.split('\n', 1)[0] ?? '';
  return firstLine.trim() === commentMarker(key);
}

/** Every comment on the issue that carries the marker, oldest first (paginated, 100 per page). */
export async function findComments(
  client: GitHubClient,
  ref: IssueRef,
  key: string,
): Promise<FoundComment[]> {
  const found: FoundComment[] = [];
  const pages = client.paginate.iterator(client.rest.issues.listComments, {
    owner: ref.owner,
    repo: ref.repo,
    issue_number: ref.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const c of page.data) {
      if (hasMarker(c.body, key))
        found.push({ id: c.id, body: c.body ?? '', url: c.html_url, author: c.user?.login ?? null });
    }
  }
  return found.sort((a, b) => a.id - b.id);
}

/** Who may have written paramtrace's comment: resolved on first use, at most once per upsert. */
export type Identity = () => Promise<string>;

/**
 * The marked comments written by the token's identity, oldest first. Others' marked comments are left
 * alone (logged once each): updating them would let anyone who can comment own the report.
 */
async function ownComments(
  client: GitHubClient,
  ref: IssueRef,
  key: string,
  whoAmI: Identity,
  log: Logger,
  ignored: Set<number>,
): Promise<FoundComment[]> {
  const marked = await findComments(client, ref, key);
  if (marked.length === 0) return [];
  const me = (await whoAmI()).toLowerCase();
  const own = marked.filter((c) => c.author?.toLowerCase() === me);
  for (const c of marked) {
    if (own.includes(c) || ignored.has(c.id)) continue;
    ignored.add(c.id);
    const by = c.author && isLogin(c.author) ? c.author : 'another account';
    log.info(`comment ${c.id} by ${by} carries paramtrace's marker but is not by ${me}; leaving it alone`);
  }
  return own;
}

export interface UpsertOptions {
  key: string;
  body: string;
  policy: CommentPolicy;
  /** Whether the comparison shows any change; `on-change` creates a comment only then. */
  changed: boolean;
  log: Logger;
  /** The login the token writes as (src/github/identity.ts); only its comments are updated. */
  identity: Identity;
  /** Waits between attempts to create; injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
}

export type UpsertResult =
  | { action: 'created' | 'updated' | 'unchanged'; id: number; url: string }
  | { action: 'skipped'; reason: string };

const CREATE_ATTEMPTS = 3;

export async function upsertComment(
  client: GitHubClient,
  ref: IssueRef,
  options: UpsertOptions,
): Promise<UpsertResult> {
  const { key, body, log } = options;
  if (!hasMarker(body, key)) throw new Error(`comment body must start with ${commentMarker(key)}`);
  if (options.policy === 'never') return { action: 'skipped', reason: 'comment: never' };

  const ignored = new Set<number>();
  const whoAmI = once(options.identity);
  const own = () => ownComments(client, ref, key, whoAmI, log, ignored);
  const existing = (await own())[0];
  if (existing) {
    const updated = await updateIfDifferent(client, ref, existing, body);
    if (updated) return updated;
    log.info(`comment ${existing.id} was deleted while this run updated it; creating a new one`);
  }
  if (options.policy === 'on-change' && !options.changed) {
    return { action: 'skipped', reason: 'comment: on-change and the parameters did not change' };
  }
  return create(client, ref, options, own);
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= fn());
}

/** PATCH unless the body is already right; undefined when the comment is gone (404). */
async function updateIfDifferent(
  client: GitHubClient,
  ref: IssueRef,
  comment: FoundComment,
  body: string,
): Promise<UpsertResult | undefined> {
  if (comment.body === body) return { action: 'unchanged', id: comment.id, url: comment.url };
  try {
    const { data } = await client.rest.issues.updateComment({
      owner: ref.owner,
      repo: ref.repo,
      comment_id: comment.id,
      body,
    });
    return { action: 'updated', id: data.id, url: data.html_url };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function create(
  client: GitHubClient,
  ref: IssueRef,
  options: UpsertOptions,
  own: () => Promise<FoundComment[]>,
): Promise<UpsertResult> {
  const { body, log } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    // Re-check right before creating: another run for this pull request may have posted meanwhile (and
    // after a failed attempt, the attempt itself may have gone through).
    const [other] = await own();
    if (other) {
      const updated = await updateIfDifferent(client, ref, other, body);
      if (updated) return updated;
    }
    try {
      // No automatic retry: a POST that timed out may have created the comment; the loop re-checks.
      const { data } = await client.rest.issues.createComment({
        owner: ref.owner,
        repo: ref.repo,
        issue_number: ref.issueNumber,
        body,
        request: { retries: 0 },
      });
      const mine = { id: data.id, body, url: data.html_url, author: data.user?.login ?? null };
      return await settle(client, ref, own, body, mine, log);
    } catch (error) {
      const failure = apiFailure(error);
      if (failure.kind !== 'unavailable' || attempt >= CREATE_ATTEMPTS) throw error;
      log.info(
        `creating the comment failed (${failure.status ?? 'network'}: ${failure.message}); checking and retrying`,
      );
      await sleep(1000 * attempt * attempt);
    }
  }
}

/**
 * After creating: if an older marked comment exists (a concurrent run created it first), delete ours and
 * update that one, so concurrent runs converge on one comment.
 */
async function settle(
  client: GitHubClient,
  ref: IssueRef,
  own: () => Promise<FoundComment[]>,
  body: string,
  mine: FoundComment,
  log: Logger,
): Promise<UpsertResult> {
  const all = await own();
  const oldest = all[0];
  if (!oldest || oldest.id >= mine.id) return { action: 'created', id: mine.id, url: mine.url };
  // Update the older one first: if it vanished meanwhile, ours stays.
  const updated = await updateIfDifferent(client, ref, oldest, body);
  if (!updated) return { action: 'created', id: mine.id, url: mine.url };
  log.info(`another run created comment ${oldest.id} first; removing this run's duplicate ${mine.id}`);
  try {
    await client.rest.issues.deleteComment({ owner: ref.owner, repo: ref.repo, comment_id: mine.id });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  return updated;
}
