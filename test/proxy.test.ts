// Runners behind a proxy: the action's GitHub API calls, model URL downloads and artifact downloads go
// through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY names the host, and npm's runtime install is handed the
// same variables. The proxy is a real forwarding proxy on loopback (test/support/forward-proxy.ts) that
// alone can resolve the `.proxied.test` host names: a request to one of them that succeeds went through it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { commands, REPO, ROOT, scenario, useBuiltAction } from './support/action-scenario.ts';
import { startForwardProxy, type ForwardProxy } from './support/forward-proxy.ts';
import { startGitHubApi, WRITE_TOKEN } from './support/github-api-server.ts';
import { tempDir } from './support/temp-dir.ts';
import {
  createClient,
  ProxyConfigError,
  proxyFetch,
  proxySettings,
  type ProxySettings,
} from '../src/github/octokit.ts';
import { downloadArtifactZip } from '../src/github/artifacts.ts';
import { downloadModel, ModelLocationError } from '../src/action/models/model-file.ts';
import { installOnnxRuntime } from '../src/action/models/install-runtime.ts';

useBuiltAction();

const quiet = { debug() {}, info() {}, warn() {} };

async function proxyFor(t: TestContext, hosts: Record<string, string> = {}): Promise<ForwardProxy> {
  const proxy = await startForwardProxy({ hosts });
  t.after(() => proxy.close());
  return proxy;
}

/** A loopback server of the example models: /head.onnx, /base.onnx. */
async function modelServer(t: TestContext): Promise<string> {
  const server = createServer((req, res) => {
    const name = /^\/(head|base)\.onnx$/.exec(req.url ?? '')?.[1];
    if (!name) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(readFileSync(join(ROOT, 'examples', `${name}.onnx`)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('proxy settings from the environment', () => {
  it('reads either case, the lower-case name first, and treats empty values as unset', () => {
    assert.deepEqual(proxySettings({}), {});
    assert.deepEqual(proxySettings({ HTTP_PROXY: '', https_proxy: '  ', NO_PROXY: '' }), {});
    assert.deepEqual(
      proxySettings({
        HTTPS_PROXY: 'http://upper:3128',
        https_proxy: 'http://lower:3128',
        HTTP_PROXY: 'http://plain:8080',
        no_proxy: 'localhost,.internal',
      }),
      { httpProxy: 'http://plain:8080', httpsProxy: 'http://lower:3128', noProxy: 'localhost,.internal' },
    );
    // curl's `host:port` form.
    assert.deepEqual(proxySettings({ HTTPS_PROXY: 'proxy.corp:3128' }), {
      httpsProxy: 'http://proxy.corp:3128',
    });
  });

  it('refuses a value that is no http(s) proxy URL, without echoing it (it may hold a password)', () => {
    assert.throws(
      () => proxySettings({ HTTPS_PROXY: 'http://user:s3cret@[bad' }),
      (e: unknown) =>
        e instanceof ProxyConfigError &&
        e.code === 'proxy' &&
        /^HTTPS_PROXY is not a proxy URL/.test(e.message) &&
        !e.message.includes('s3cret'),
    );
    assert.throws(
      () => proxySettings({ http_proxy: 'ftp://proxy:21' }),
      /http_proxy must be an http:\/\/ or https:\/\//,
    );
  });
});

describe('through the proxy', () => {
  it('the GitHub API: every request, at a host only the proxy can resolve', async (t) => {
    const api = await startGitHubApi();
    t.after(() => api.close());
    api.state.addRepo(REPO);
    api.state.addPullRequest(REPO, { number: 7, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) });
    const apiHost = new URL(api.url).host;
    const proxy = await proxyFor(t, { 'api.proxied.test': apiHost });
    const client = createClient({
      token: WRITE_TOKEN,
      baseUrl: 'http://api.proxied.test',
      proxy: { httpProxy: proxy.url },
      log: quiet,
    });
    const [owner, repo] = REPO.split('/') as [string, string];
    await client.rest.issues.createComment({ owner, repo, issue_number: 7, body: 'via the proxy' });
    const { data } = await client.rest.issues.listComments({ owner, repo, issue_number: 7 });
    assert.deepEqual(
      data.map((c) => c.body),
      ['via the proxy'],
    );
    assert.deepEqual(
      proxy.requests.map((r) => r.method),
      proxy.requests.map(() => 'CONNECT'),
    );
    assert.ok(
      proxy.requests.every((r) => r.target === 'api.proxied.test:80'),
      JSON.stringify(proxy.requests),
    );
    assert.deepEqual(proxy.tunnelled(), [
      `POST /repos/${REPO}/issues/7/comments HTTP/1.1`,
      `GET /repos/${REPO}/issues/7/comments HTTP/1.1`,
    ]);
    assert.equal(api.requests.length, 2);
  });

  it('NO_PROXY: a listed host is reached directly, others still through the proxy', async (t) => {
    const api = await startGitHubApi();
    t.after(() => api.close());
    api.state.addRepo(REPO);
    api.state.addPullRequest(REPO, { number: 7, headSha: 'a'.repeat(40), baseSha: 'b'.repeat(40) });
    const proxy = await proxyFor(t);
    const get = (proxySetting: ProxySettings) =>
      createClient({
        token: WRITE_TOKEN,
        baseUrl: api.url,
        proxy: proxySetting,
        log: quiet,
      }).rest.issues.listComments({ owner: 'octo-org', repo: 'models', issue_number: 7 });
    // Loopback is not exempt by itself (as with curl): without NO_PROXY it goes through.
    await get({ httpProxy: proxy.url });
    assert.equal(proxy.tunnelled().length, 1);
    await get({ httpProxy: proxy.url, noProxy: 'example.com,127.0.0.1' });
    await get({ httpProxy: proxy.url, noProxy: '*' });
    await get({});
    assert.equal(proxy.tunnelled().length, 1, 'NO_PROXY or no proxy: nothing more through it');
    assert.equal(api.requests.length, 4);
  });

  it('a model URL download', async (t) => {
    const proxy = await proxyFor(t, { 'models.proxied.test': await modelServer(t) });
    const dir = tempDir(t, 'paramtrace-proxy-');
    const url = 'http://models.proxied.test/head.onnx';
    const file = await downloadModel(url, dir, { proxy: proxySettings({ HTTP_PROXY: proxy.url }) });
    assert.deepEqual(readFileSync(file), readFileSync(join(ROOT, 'examples/head.onnx')));
    assert.deepEqual(proxy.tunnelled(), ['GET /head.onnx HTTP/1.1']);
    // Without the proxy the host does not resolve: the download fails with a clear error.
    await assert.rejects(
      downloadModel(url, dir, { timeoutMs: 10_000 }),
      (e: unknown) =>
        e instanceof ModelLocationError && e.message.startsWith(`cannot download the model from ${url}`),
    );
    // A proxy that does not answer is a clear error too, not a hang.
    await assert.rejects(
      downloadModel(url, dir, { proxy: { httpProxy: 'http://127.0.0.1:9' }, timeoutMs: 10_000 }),
      ModelLocationError,
    );
  });

  it("an artifact's zip, from the storage URL the API redirects to", async (t) => {
    const api = await startGitHubApi();
    t.after(() => api.close());
    api.state.addRepo(REPO);
    const content = zipSync({ 'paramtrace-report.json': strToU8('{}') });
    const artifact = api.state.addArtifact(REPO, 5, { name: 'paramtrace-baseline', content });
    const proxy = await proxyFor(t);
    const settings = { httpProxy: proxy.url };
    const client = createClient({ token: WRITE_TOKEN, baseUrl: api.url, proxy: settings, log: quiet });
    const repo = { owner: 'octo-org', repo: 'models' };
    const zip = await downloadArtifactZip(client, repo, artifact.id, { maxBytes: 10_000, proxy: settings });
    assert.deepEqual(zip, content);
    const lines = proxy.tunnelled();
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[0]!, /^GET \/repos\/octo-org\/models\/actions\/artifacts\/\d+\/zip HTTP\/1\.1$/);
    assert.match(lines[1]!, /^GET \/_artifact-downloads\/\d+\.zip\?sig=\S+ HTTP\/1\.1$/);
  });

  it('proxyFetch without a proxy is a direct fetch', async (t) => {
    const host = await modelServer(t);
    const response = await proxyFetch({ noProxy: '*' })(`http://${host}/base.onnx`);
    assert.equal(response.status, 200);
    assert.deepEqual(
      new Uint8Array(await response.arrayBuffer()),
      new Uint8Array(readFileSync(join(ROOT, 'examples/base.onnx'))),
    );
  });

  it("npm's runtime install is handed the proxy variables and uses them", async (t) => {
    // The registry's host only the proxy knows, mapped to a port nothing listens on: npm fails fast, but
    // only after asking the proxy for it.
    const proxy = await proxyFor(t, { 'registry.proxied.test': '127.0.0.1:9' });
    const home = tempDir(t, 'paramtrace-npm-');
    const error = await installOnnxRuntime({
      device: 'cpu',
      toolCache: join(home, 'toolcache'),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        npm_config_cache: join(home, 'cache'),
        npm_config_userconfig: join(home, 'npmrc'),
        npm_config_registry: 'http://registry.proxied.test/',
        npm_config_update_notifier: 'false',
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
      },
    }).then(
      () => assert.fail('installed without a registry'),
      (e: unknown) => e as Error,
    );
    assert.match(error.message, /npm install onnxruntime-node@1\.30\.0 failed/);
    assert.ok(
      proxy.requests.some((r) => r.target.includes('registry.proxied.test')),
      JSON.stringify(proxy.requests),
    );
  });
});

describe('the action behind a proxy', () => {
  it('downloads both models and posts the comment through HTTP_PROXY', async (t) => {
    const s = await scenario(t);
    const proxy = await proxyFor(t, { 'models.proxied.test': await modelServer(t) });
    const run = await s.run({
      env: { HTTP_PROXY: proxy.url },
      inputs: {
        build: '',
        model: 'http://models.proxied.test/head.onnx',
        'base-model': 'http://models.proxied.test/base.onnx',
      },
    });
    assert.equal(run.code, 0, run.log);
    assert.equal(run.outputs['base-unique'], '18');
    assert.equal(run.outputs.unique, '9');
    const lines = proxy.tunnelled();
    assert.ok(
      lines.includes('GET /head.onnx HTTP/1.1') && lines.includes('GET /base.onnx HTTP/1.1'),
      lines.join('\n'),
    );
    assert.ok(lines.includes(`POST /repos/${REPO}/issues/7/comments HTTP/1.1`), lines.join('\n'));
    // Every API request the server saw came through the proxy, in the same order.
    assert.deepEqual(
      lines.filter((l) => !/^GET \/(head|base)\.onnx /.test(l)),
      s.api.requests.map((r) => `${r.method} ${r.path} HTTP/1.1`),
    );
    assert.equal(s.comments().length, 1);
  });

  it('NO_PROXY naming the API host: the API is reached directly', async (t) => {
    const s = await scenario(t);
    const proxy = await proxyFor(t);
    const run = await s.run({ env: { HTTP_PROXY: proxy.url, NO_PROXY: 'localhost,127.0.0.1' } });
    assert.equal(run.code, 0, run.log);
    assert.equal(s.comments().length, 1);
    assert.deepEqual(proxy.requests, []);
  });

  it('a malformed HTTPS_PROXY fails the step with a clear error, before any request', async (t) => {
    const s = await scenario(t);
    const run = await s.run({ env: { HTTPS_PROXY: 'http://user:pw@[oops' } });
    assert.equal(run.code, 1, run.log);
    const errors = commands(run, 'error').join('\n');
    assert.match(errors, /HTTPS_PROXY is not a proxy URL \(http:\/\/host:port or host:port\)/);
    assert.doesNotMatch(run.log, /\n\s+at /, 'no stack trace');
    assert.ok(!run.log.includes('user:pw'));
    assert.equal(s.api.requests.length, 0);
  });
});
