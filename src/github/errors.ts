// What went wrong with a GitHub API call, in words a user can act on.

export type ApiFailureKind = 'forbidden' | 'not-found' | 'rate-limited' | 'unavailable' | 'invalid' | 'other';

export interface ApiFailure {
  kind: ApiFailureKind;
  status: number | null;
  message: string;
}

interface MaybeRequestError {
  status?: unknown;
  message?: unknown;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

export function apiFailure(error: unknown): ApiFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as MaybeRequestError;
  const status = typeof e.status === 'number' ? e.status : null;
  const message = firstLine(typeof e.message === 'string' ? e.message : String(error));
  const headers = e.response?.headers ?? {};
  // A 429 is a rate limit whatever its message says; a 403 is one when its headers or message say so.
  const rateLimited =
    status === 429 ||
    (status === 403 &&
      (headers['x-ratelimit-remaining'] === '0' ||
        headers['retry-after'] !== undefined ||
        /rate limit/i.test(message)));
  if (rateLimited) return { kind: 'rate-limited', status, message };
  if (status === 401 || status === 403) return { kind: 'forbidden', status, message };
  if (status === 404 || status === 410) return { kind: 'not-found', status, message };
  if (status === 422) return { kind: 'invalid', status, message };
  if (status === null || status >= 500) return { kind: 'unavailable', status, message };
  return { kind: 'other', status, message };
}

export function isNotFound(error: unknown): boolean {
  return apiFailure(error).kind === 'not-found';
}

/** One line: "403 Resource not accessible by integration". */
export function describeFailure(failure: ApiFailure): string {
  return failure.status === null ? failure.message : `${failure.status} ${failure.message}`;
}

export type Permission = 'pull-requests' | 'statuses';

/** The fix for a 401/403, for the permission the call needed. */
export function permissionHint(permission: Permission): string {
  const what = permission === 'pull-requests' ? 'comment on the pull request' : 'set the commit status';
  return (
    `The token cannot ${what}. Give the job \`permissions: ${permission}: write\`. ` +
    'A pull request from a fork always gets a read-only token: use the fork-safe pair of workflows ' +
    '(`mode: pr` with `comment: never` uploads the report as an artifact; a `workflow_run` workflow with ' +
    '`mode: post` posts it). See docs/action.md#fork-safe-workflows.'
  );
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
