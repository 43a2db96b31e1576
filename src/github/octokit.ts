// The one Octokit the action uses: @octokit/rest with the retry plugin (5xx and network errors, with
// backoff) and the throttling plugin (primary and secondary rate limits, honouring `retry-after`), a
// per-request timeout, and a logger that never prints the token. Also the fetch every download of the
// action uses: through the runner's proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) when it has one.
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';
import { UserError } from '../report/user-error.ts';

export type GitHubClient = InstanceType<typeof Octokit>;

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface ClientOptions {
  token: string;
  /** The runner's proxy (proxySettings of its environment); none: direct connections. */
  proxy?: ProxySettings | undefined;
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

export class ProxyConfigError extends UserError {
  readonly code = 'proxy';
  override name = 'ProxyConfigError';
}

/** The proxy variables of a runner's environment; empty ones count as unset. */
export interface ProxySettings {
  /** HTTP_PROXY: for http:// URLs, and https:// ones when httpsProxy is unset. */
  httpProxy?: string | undefined;
  /** HTTPS_PROXY: for https:// URLs. */
  httpsProxy?: string | undefined;
  /** NO_PROXY: hosts (`example.com`, `.example.com`, `host:port`, `*`) reached directly. */
  noProxy?: string | undefined;
}

/**
 * The proxy settings of `env`: either case of each name, the lower-case one first (what curl, npm and the
 * Actions toolkit read); an empty value is unset. A proxy given as `host:port` (which curl accepts) is
 * `http://host:port`; anything else that is not an http(s) URL is refused here, before any request.
 */
export function proxySettings(env: NodeJS.ProcessEnv): ProxySettings {
  const read = (name: string): [string, string] | undefined => {
    for (const key of [name.toLowerCase(), name.toUpperCase()]) {
      const value = env[key]?.trim();
      if (value) return [key, value];
    }
    return undefined;
  };
  const settings: ProxySettings = {};
  const httpProxy = read('http_proxy');
  const httpsProxy = read('https_proxy');
  const noProxy = read('no_proxy');
  if (httpProxy) settings.httpProxy = proxyUrl(...httpProxy);
  if (httpsProxy) settings.httpsProxy = proxyUrl(...httpsProxy);
  if (noProxy) settings.noProxy = noProxy[1];
  return settings;
}

function proxyUrl(name: string, value: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not echoed: a proxy URL may carry a password.
    throw new ProxyConfigError(`${name} is not a proxy URL (http://host:port or host:port)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ProxyConfigError(
      `${name} must be an http:// or https:// proxy URL, not ${parsed.protocol}//...`,
    );
  return url;
}

/**
 * fetch through the proxy `settings` name, or Node's own fetch when they name none. Node's fetch ignores
 * the proxy variables (Node 24 reads them only with NODE_USE_ENV_PROXY=1), so a runner behind a proxy
 * could reach neither the API nor a download; undici's EnvHttpProxyAgent, given the settings explicitly
 * (it would read process.env otherwise), applies NO_PROXY per URL and tunnels with CONNECT. Loopback hosts
 * are not exempt unless NO_PROXY lists them, as with curl.
 */
export function proxyFetch(settings: ProxySettings | undefined): typeof fetch {
  if (!settings?.httpProxy && !settings?.httpsProxy) return (input, init) => fetch(input, init);
  const agent = new EnvHttpProxyAgent({
    // '' (not undefined) so that the agent does not fall back to process.env.
    httpProxy: settings.httpProxy ?? '',
    httpsProxy: settings.httpsProxy ?? '',
    noProxy: settings.noProxy ?? '',
  });
  // undici's fetch is the one Node ships, in a newer version; its types differ only nominally.
  const viaProxy = undiciFetch as unknown as (
    input: Parameters<typeof fetch>[0],
    init: RequestInit & { dispatcher: EnvHttpProxyAgent },
  ) => Promise<Response>;
  return (input, init) => viaProxy(input, { ...init, dispatcher: agent });
}

/** fetch with a deadline: the request is aborted after `timeoutMs`. */
export function fetchWithTimeout(timeoutMs: number, base: typeof fetch = fetch): typeof fetch {
  return (input, init = {}) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    return base(input, { ...init, signal }).catch((error: unknown) => {
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
    request: { fetch: fetchWithTimeout(options.timeoutMs ?? 30_000, proxyFetch(options.proxy)) },
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
