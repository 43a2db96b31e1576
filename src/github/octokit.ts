// The one Octokit the action uses: @octokit/rest with the retry plugin (5xx and network errors, with
// backoff) and the throttling plugin (primary and secondary rate limits, honouring `retry-after`), a
// per-request timeout, and a logger that never prints the token.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';

export type GitHubClient = InstanceType<typeof Octokit>;

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface ClientOptions {
  token: string;
  /** GITHUB_API_URL; https://api.github.com when empty. */
  baseUrl?: string | undefined;
  /** Per-request timeout; a timed-out request counts as a 5xx and is retried. */
  timeoutMs?: number | undefined;
  /** Retries of a failed request (5xx, network error, timeout). */
  retries?: number | undefined;
  /** Rate-limit waits longer than this are not worth it: the request fails and the caller degrades. */
  maxRateLimitWaitSeconds?: number | undefined;
  /** Retries after a rate limit (primary or secondary). */
  rateLimitRetries?: number | undefined;
  log: Logger;
  userAgent?: string | undefined;
}

const RestWithPlugins = Octokit.plugin(retry, throttling);

/** Removes every occurrence of `secret` (and an `authorization` header value) from a log line. */
export function redact(text: string, secret: string): string {
  let out = text.replace(
    /(authorization["']?\s*[:=]\s*["']?)(?:token|bearer)?\s*[^\s"',}]+/gi,
    '$1[redacted]',
  );
  if (secret.length >= 4) out = out.split(secret).join('***');
  return out;
}

/** fetch with a deadline: the request is aborted after `timeoutMs`. */
export function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return fetch(input, { ...init, signal }).catch((error: unknown) => {
      if (deadline.aborted) throw new Error(`request timed out after ${timeoutMs} ms`, { cause: error });
      throw error;
    });
  };
}

export function createClient(options: ClientOptions): GitHubClient {
  const { token, log } = options;
  const maxWait = options.maxRateLimitWaitSeconds ?? 120;
  const rateLimitRetries = options.rateLimitRetries ?? 3;
  const say = (level: keyof Logger) => (message: string) => log[level](redact(String(message), token));
  const describe = (o: { method: string; url: string }) => `${o.method} ${redact(o.url, token)}`;
  const client = new RestWithPlugins({
    auth: token,
    baseUrl: (options.baseUrl || 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: options.userAgent ?? 'paramtrace-action',
    log: { debug: say('debug'), info: say('debug'), warn: say('warn'), error: say('warn') },
    request: { fetch: fetchWithTimeout(options.timeoutMs ?? 30_000) },
    retry: {
      retries: options.retries ?? 3,
      // 403 and 429 are the throttling plugin's: it knows rate limits from permission errors.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle: {
      onRateLimit: (
        retryAfter: number,
        o: { method: string; url: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        if (retryCount < rateLimitRetries && retryAfter <= maxWait) {
          log.info(`GitHub API rate limit reached on ${describe(o)}; retrying in ${retryAfter} s`);
          return true;
        }
        log.warn(
          `GitHub API rate limit exhausted on ${describe(o)} (resets in ${retryAfter} s); giving up on it`,
        );
        return false;
      },
      onSecondaryRateLimit: (
        retryAfter: number,
        o: { method: string; url: string },
        _octokit: unknown,
        retryCount: number,
      ) => {
        if (retryCount < rateLimitRetries && retryAfter <= maxWait) {
          log.info(
            `GitHub API secondary rate limit on ${describe(o)}; retrying after ${retryAfter} s (retry-after)`,
          );
          return true;
        }
        log.warn(`GitHub API secondary rate limit on ${describe(o)} persists; giving up on it`);
        return false;
      },
    },
  });
  // Octokit hands every request the same default `request` object, and the retry and throttling plugins
  // keep their retry count on it, so one request's retries would lengthen the next one's backoff. This
  // hook, registered last and so outermost, gives each request its own copy (in place: every hook of one
  // request shares its options object).
  client.hook.wrap('request', (request, options) => {
    options.request = { ...options.request };
    return request(options);
  });
  return client;
}
