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

/**
 * The throttling plugin takes a 403 or 429 for a secondary rate limit only when its message says
 * "secondary rate"; anything else without `x-ratelimit-remaining: 0` it passes on as a plain failure. But
 * a 429, or a 403 with `retry-after`, is a rate limit whatever its message says (a proxy's "Too Many
 * Requests", a reworded message): GitHub's documentation says to wait `retry-after` seconds. This plugin,
 * between the retry plugin and the throttling plugin (inner to it: it sees each failure first), marks such
 * an error as the secondary rate limit it is, and turns an HTTP-date `retry-after` into seconds, so that
 * the throttling plugin waits `retry-after` (bounded by `maxRateLimitWaitSeconds`) and retries.
 */
export function rateLimitAnswers(octokit: { hook: Octokit['hook'] }): void {
  octokit.hook.wrap('request', async (request, options) => {
    try {
      return await request(options);
    } catch (error) {
      markSecondaryRateLimit(error);
      throw error;
    }
  });
}

/** Exported for the tests: the marking `rateLimitAnswers` does to a failed request's error. */
export function markSecondaryRateLimit(error: unknown): void {
  const e = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: Record<string, string | number | undefined> };
  } | null;
  if (typeof e !== 'object' || e === null || (e.status !== 403 && e.status !== 429)) return;
  const headers = e.response?.headers;
  if (!headers || typeof e.message !== 'string') return;
  const raw = headers['retry-after'];
  // A primary rate limit (`x-ratelimit-remaining: 0`) waits for its reset time: the plugin knows it.
  if (headers['x-ratelimit-remaining'] === '0' && !/\bsecondary rate\b/i.test(e.message)) return;
  if (raw === undefined) {
    // A 429 without `retry-after`: the plugin's own fallback wait (60 s) applies.
    if (e.status !== 429) return;
  } else if (!/^\s*\d+\s*$/.test(String(raw))) {
    const at = Date.parse(String(raw));
    headers['retry-after'] = String(Number.isNaN(at) ? 60 : Math.max(0, Math.ceil((at - Date.now()) / 1000)));
  }
  if (!/\bsecondary rate\b/i.test(e.message)) {
    e.message = `${e.message} (treated as a secondary rate limit: HTTP ${e.status}${raw === undefined ? '' : ' with retry-after'})`;
  }
}

// Plugins wrap the request in order: the first is innermost. retry (5xx, network errors) < rateLimitAnswers
// < throttling (rate limits).
const RestWithPlugins = Octokit.plugin(retry, rateLimitAnswers, throttling);

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
