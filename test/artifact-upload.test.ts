// Uploading an artifact through @actions/artifact against a loopback results service and a real Azure
// Storage emulator (test/support/results-service.ts): the zip that lands in blob storage, what the client
// sends the service, and every failure as a one-line problem with process.env left as it was.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout } from 'node:timers/promises';
import { unzipSync } from 'fflate';
import { uploadArtifact, artifactRuntimeFrom, type UploadResult } from '../src/action/publishing/artifact.ts';
import { runtimeToken, startResultsService, type ResultsService } from './support/results-service.ts';
import { tempDir } from './support/temp-dir.ts';

const HTML = '<!doctype html>\n<title>paramtrace</title>\n<p>Δ +1.2M parameters — ResNet-18 → 50</p>\n';
const JSON_REPORT = `${JSON.stringify({ schema: 1, totals: { unique: 11_689_512 }, name: 'résumé 🚀' }, null, 2)}\n`;
const RUNTIME_KEYS = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL', 'GITHUB_SERVER_URL'];

let service: ResultsService;

before(async () => {
  service = await startResultsService();
});
after(async () => {
  await service?.close();
});

/** Calls uploadArtifact and checks that process.env is exactly as before, whatever the outcome. */
async function upload(options: Partial<Parameters<typeof uploadArtifact>[0]> & { files: string[] }) {
  const env = { ...process.env };
  const result = await uploadArtifact({
    name: 'paramtrace-report',
    rootDirectory: '/',
    runtime: { token: service.token, resultsUrl: service.url },
    serverUrl: 'https://github.com',
    ...options,
  });
  assert.deepEqual({ ...process.env }, env, 'process.env is restored');
  return result;
}

function problemOf(result: UploadResult): string {
  assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
  return (result as { problem: string }).problem;
}

/** The report files in a temporary folder: report.html (`page`) and data/report.json. */
function reportFiles(t: Parameters<typeof tempDir>[0], page = HTML) {
  const dir = tempDir(t, 'paramtrace-artifact-');
  mkdirSync(join(dir, 'data'));
  const html = join(dir, 'report.html');
  const json = join(dir, 'data', 'report.json');
  writeFileSync(html, page);
  writeFileSync(json, JSON_REPORT);
  return { dir, files: [html, json] };
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('artifactRuntimeFrom', () => {
  it('needs both the runtime token and the results URL', () => {
    const env = { ACTIONS_RUNTIME_TOKEN: 'token', ACTIONS_RESULTS_URL: 'https://results.example/' };
    assert.deepEqual(artifactRuntimeFrom(env), { token: 'token', resultsUrl: 'https://results.example/' });
    assert.equal(artifactRuntimeFrom({ ACTIONS_RUNTIME_TOKEN: 'token' }), null);
    assert.equal(artifactRuntimeFrom({ ACTIONS_RESULTS_URL: 'https://results.example/' }), null);
    assert.equal(artifactRuntimeFrom({ ...env, ACTIONS_RUNTIME_TOKEN: '' }), null);
  });
});

describe('uploadArtifact', () => {
  it('uploads the files as a zip the service accepts, with env vars set only during the call', async (t) => {
    const { dir, files } = reportFiles(t);
    // The runtime variables as main.ts leaves them: the token and URL removed, a server URL kept.
    const saved = Object.fromEntries(RUNTIME_KEYS.map((key) => [key, process.env[key]]));
    t.after(() => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });
    delete process.env.ACTIONS_RUNTIME_TOKEN;
    delete process.env.ACTIONS_RESULTS_URL;
    process.env.GITHUB_SERVER_URL = 'https://github.com';
    const creates = service.creates().length;
    const finalizes = service.finalizes().length;

    const result = await upload({ name: 'paramtrace-report', files, rootDirectory: dir, retentionDays: 5 });

    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.ok);
    const stored = service.artifacts.get('paramtrace-report');
    assert.ok(stored);
    assert.equal(result.id, Number(stored.id));
    assert.equal(String(result.id), stored.id, 'the int64 id beyond 2^32 survives');

    // The zip in blob storage holds both files, byte for byte, under their names relative to the root.
    const zip = await service.blob('paramtrace-report');
    const entries = unzipSync(new Uint8Array(zip));
    assert.deepEqual(Object.keys(entries).sort(), ['data/report.json', 'report.html']);
    assert.deepEqual(Buffer.from(entries['report.html']!), Buffer.from(HTML));
    assert.deepEqual(Buffer.from(entries['data/report.json']!), Buffer.from(JSON_REPORT));
    assert.equal(result.size, zip.length);

    // What the client sent: field names and types as the generated protobuf code writes them.
    const [create] = service.creates().slice(creates);
    assert.ok(create);
    assert.equal(create.status, 200);
    assert.equal(create.authorization, `Bearer ${service.token}`);
    const { expires_at: expiresAt, ...createRest } = create.body;
    assert.deepEqual(createRest, {
      workflow_run_backend_id: service.ids.workflowRunBackendId,
      workflow_job_run_backend_id: service.ids.workflowJobRunBackendId,
      name: 'paramtrace-report',
      mime_type: 'application/zip',
      version: 7,
    });
    const days = (Date.parse(expiresAt as string) - Date.now()) / 86_400_000;
    assert.ok(days > 4.9 && days <= 5, `expires_at ${String(expiresAt)} is 5 days ahead`);

    const [finalize] = service.finalizes().slice(finalizes);
    assert.ok(finalize);
    assert.equal(finalize.status, 200);
    assert.deepEqual(finalize.body, {
      workflow_run_backend_id: service.ids.workflowRunBackendId,
      workflow_job_run_backend_id: service.ids.workflowJobRunBackendId,
      name: 'paramtrace-report',
      size: String(zip.length),
      hash: `sha256:${createHash('sha256').update(zip).digest('hex')}`,
    });
    assert.equal(service.creates().length, creates + 1);
    assert.equal(service.finalizes().length, finalizes + 1);
  });

  it('says the runner gave no runtime when there is none', async (t) => {
    const { dir, files } = reportFiles(t);
    const calls = service.calls.length;
    const result = await upload({ files, rootDirectory: dir, runtime: null });
    assert.equal(
      problemOf(result),
      'no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL in the environment (artifacts need a GitHub-hosted or self-hosted Actions runner)',
    );
    assert.equal(service.calls.length, calls);
  });

  it('names the artifact that already exists (injected, and a real second upload)', async (t) => {
    const { dir, files } = reportFiles(t);
    service.failNext('CreateArtifact', 'already_exists', 'an artifact with this name already exists');
    const injected = await upload({ name: 'taken', files, rootDirectory: dir });
    assert.equal(problemOf(injected), "an artifact named 'taken' already exists in this run");

    const lists = service.callsOf('ListArtifacts').length;
    assert.equal((await upload({ name: 'twice', files, rootDirectory: dir })).ok, true);
    const again = await upload({ name: 'twice', files, rootDirectory: dir, overwrite: false });
    assert.equal(problemOf(again), "an artifact named 'twice' already exists in this run");
    assert.equal(service.creates().at(-1)?.error, 'already_exists');
    // Without overwrite nothing is listed or deleted.
    assert.equal(service.callsOf('ListArtifacts').length, lists);
    assert.equal(service.callsOf('DeleteArtifact').length, 0);
  });

  it('retries a transient service error and succeeds', async (t) => {
    const { dir, files } = reportFiles(t);
    const creates = service.creates().length;
    service.failNext('CreateArtifact', 'internal', 'database hiccup');
    const result = await upload({ name: 'after-a-hiccup', files, rootDirectory: dir });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(
      service
        .creates()
        .slice(creates)
        .map((call) => call.status),
      [500, 200],
    );
  });

  it('reports a service that cannot be reached, without retrying for minutes', async (t) => {
    const { dir, files } = reportFiles(t);
    const port = await closedPort();
    const result = await upload({
      files,
      rootDirectory: dir,
      runtime: { token: service.token, resultsUrl: `http://127.0.0.1:${port}/` },
    });
    assert.equal(
      problemOf(result),
      `the artifact service at http://127.0.0.1:${port} could not be reached (ECONNREFUSED)`,
    );
  });

  it('gives up on a service that never answers at the deadline', async (t) => {
    const { dir, files } = reportFiles(t);
    service.stallNext('CreateArtifact');
    t.after(() => service.releaseStalled());
    const result = await upload({ name: 'stalled', files, rootDirectory: dir, timeoutMs: 1500 });
    assert.equal(
      problemOf(result),
      "the artifact service did not finish the upload of 'stalled' within 1.5 s",
    );
    // The abandoned request is ended by the client, not left open for the process to wait on.
    const stalledCall = service.creates().at(-1);
    for (let i = 0; i < 100 && !stalledCall?.droppedByClient; i++) await setTimeout(10);
    assert.equal(stalledCall?.droppedByClient, true, 'the client dropped the stalled request');
    // The next upload is not held up by the abandoned one.
    const next = await upload({ name: 'after-the-stall', files, rootDirectory: dir });
    assert.equal(next.ok, true, JSON.stringify(next));
  });

  it('refuses GitHub Enterprise Server without calling the service', async (t) => {
    const { dir, files } = reportFiles(t);
    const calls = service.calls.length;
    const result = await upload({ files, rootDirectory: dir, serverUrl: 'https://github.example.com' });
    assert.equal(problemOf(result), 'GitHub Enterprise Server is not supported by the artifact service');
    assert.equal(service.calls.length, calls);
  });

  it("passes on the service's own refusal in one line", async (t) => {
    const { dir, files } = reportFiles(t);
    const stranger = runtimeToken({ workflowRunBackendId: 'a', workflowJobRunBackendId: 'b' });
    const result = await upload({
      name: 'wrong-token',
      files,
      rootDirectory: dir,
      runtime: { token: stranger, resultsUrl: service.url },
    });
    const problem = problemOf(result);
    assert.match(problem, /^the artifact upload failed: .*\(401\).*runtime token/);
    assert.doesNotMatch(problem, /\n/);
    assert.equal(service.calls.at(-1)?.error, 'unauthenticated');
  });

  it('reports files that are not under the root directory', async (t) => {
    const { files } = reportFiles(t);
    const other = tempDir(t, 'paramtrace-artifact-root-');
    const problem = problemOf(await upload({ name: 'outside', files, rootDirectory: other }));
    assert.match(problem, /^the artifact upload failed: The rootDirectory: .* is not a parent directory/);
  });
});

describe('uploadArtifact with overwrite', () => {
  const ids = () => ({
    workflow_run_backend_id: service.ids.workflowRunBackendId,
    workflow_job_run_backend_id: service.ids.workflowJobRunBackendId,
  });
  const methodsSince = (index: number) => service.calls.slice(index).map((call) => call.method);

  it('lists but deletes nothing on a first upload (the library always lists)', async (t) => {
    const { dir, files } = reportFiles(t);
    const index = service.calls.length;
    const result = await upload({ name: 'first', files, rootDirectory: dir, overwrite: true });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual(methodsSince(index), ['ListArtifacts', 'CreateArtifact', 'FinalizeArtifact']);
    const [list] = service.callsOf('ListArtifacts').slice(-1);
    assert.deepEqual([list?.status, list?.body], [200, { ...ids(), name_filter: 'first' }]);
  });

  it('replaces an artifact of the same name: one artifact, the second zip, the new id', async (t) => {
    const { dir, files } = reportFiles(t);
    const first = await upload({ name: 're-run', files, rootDirectory: dir });
    assert.ok(first.ok);
    const old = service.artifacts.get('re-run')!;

    const second = reportFiles(t, '<!doctype html>\n<p>the re-run</p>\n');
    const index = service.calls.length;
    const result = await upload({ name: 're-run', ...second, rootDirectory: second.dir, overwrite: true });

    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.ok);
    assert.deepEqual(methodsSince(index), [
      'ListArtifacts',
      'DeleteArtifact',
      'CreateArtifact',
      'FinalizeArtifact',
    ]);
    const [remove] = service.callsOf('DeleteArtifact').slice(-1);
    assert.deepEqual([remove?.status, remove?.body], [200, { ...ids(), name: 're-run' }]);
    const stored = service.artifacts.get('re-run');
    assert.equal(String(result.id), stored?.id);
    assert.notEqual(result.id, first.id);
    assert.equal([...service.artifacts.keys()].filter((name) => name === 're-run').length, 1);
    const entries = unzipSync(new Uint8Array(await service.blob('re-run')));
    assert.equal(Buffer.from(entries['report.html']!).toString(), '<!doctype html>\n<p>the re-run</p>\n');
    assert.equal(await service.hasBlob(old.blobName), false, "the first upload's blob is deleted");
  });

  it('reports a failed list or delete in one line, and uploads nothing', async (t) => {
    const { dir, files } = reportFiles(t);
    const first = await upload({ name: 'kept', files, rootDirectory: dir });
    assert.ok(first.ok);
    const creates = service.creates().length;

    service.failNext('DeleteArtifact', 'permission_denied', 'not allowed to delete');
    const deleteFailed = await upload({ name: 'kept', files, rootDirectory: dir, overwrite: true });
    assert.equal(
      problemOf(deleteFailed),
      "the artifact 'kept' already in this run could not be deleted to overwrite it: Failed to DeleteArtifact: Received non-retryable error: Failed request: (403) Forbidden: not allowed to delete",
    );
    service.failNext('ListArtifacts', 'permission_denied', 'not allowed to list');
    const listFailed = await upload({ name: 'kept', files, rootDirectory: dir, overwrite: true });
    assert.match(
      problemOf(listFailed),
      /^the artifact 'kept' .* could not be deleted to overwrite it: Failed to ListArtifacts: .*\(403\) Forbidden: not allowed to list$/,
    );

    assert.equal(service.creates().length, creates, 'nothing was uploaded');
    assert.equal(service.artifacts.get('kept')?.id, String(first.id), 'the first artifact is still there');
  });

  it('holds the delete to the deadline', async (t) => {
    const { dir, files } = reportFiles(t);
    assert.ok((await upload({ name: 'slow-delete', files, rootDirectory: dir })).ok);
    const creates = service.creates().length;
    service.stallNext('DeleteArtifact');
    t.after(() => service.releaseStalled());

    const options = { name: 'slow-delete', files, rootDirectory: dir, overwrite: true };
    const result = await upload({ ...options, timeoutMs: 1500 });
    assert.equal(
      problemOf(result),
      "the artifact service did not finish the upload of 'slow-delete' within 1.5 s",
    );
    const stalledCall = service.callsOf('DeleteArtifact').at(-1);
    for (let i = 0; i < 100 && !stalledCall?.droppedByClient; i++) await setTimeout(10);
    assert.equal(stalledCall?.droppedByClient, true, 'the client dropped the stalled delete');
    assert.equal(service.creates().length, creates, 'no upload after the abandoned delete');

    const next = await upload(options);
    assert.equal(next.ok, true, JSON.stringify(next));
  });
});

describe('the loopback results service', () => {
  const route = (method: string) =>
    new URL(`twirp/github.actions.results.api.v1.ArtifactService/${method}`, service.url);
  const valid = () => ({
    workflow_run_backend_id: service.ids.workflowRunBackendId,
    workflow_job_run_backend_id: service.ids.workflowJobRunBackendId,
    name: 'direct',
    version: 7,
  });
  async function post(method: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(route(method), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${service.token}`, ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { code?: string; msg?: string } };
  }

  it('refuses what the real service would refuse, with Twirp errors', async () => {
    const cases: [string, unknown, Record<string, string>, number, string][] = [
      ['unknown field', { ...valid(), extra: 1 }, {}, 400, 'malformed'],
      ['wrong type', { ...valid(), version: 'seven' }, {}, 400, 'malformed'],
      ['int64 as a fraction', { ...valid(), version: undefined, size: '1.5' }, {}, 400, 'malformed'],
      ['missing name', { ...valid(), name: undefined }, {}, 400, 'invalid_argument'],
      ['other run', { ...valid(), workflow_run_backend_id: 'other' }, {}, 403, 'permission_denied'],
      ['bad token', valid(), { authorization: 'Bearer nope' }, 401, 'unauthenticated'],
      ['no token', valid(), { authorization: '' }, 401, 'unauthenticated'],
      ['protobuf body', valid(), { 'content-type': 'application/protobuf' }, 404, 'bad_route'],
      ['past expiry', { ...valid(), expires_at: '2020-01-01T00:00:00Z' }, {}, 400, 'invalid_argument'],
    ];
    for (const [what, body, headers, status, code] of cases) {
      const method = what === 'int64 as a fraction' ? 'FinalizeArtifact' : 'CreateArtifact';
      const answer = await post(method, body, headers);
      assert.deepEqual([answer.status, answer.body.code], [status, code], what);
      assert.equal(typeof answer.body.msg, 'string', what);
    }
    const ids = { ...valid(), name: undefined, version: undefined };
    const more: [string, unknown, number, string][] = [
      ['ListArtifacts', { ...ids, name_filter: 7 }, 400, 'malformed'],
      ['ListArtifacts', { ...ids, name: 'direct' }, 400, 'malformed'],
      ['ListArtifacts', { ...ids, workflow_job_run_backend_id: '' }, 400, 'invalid_argument'],
      ['DeleteArtifact', ids, 400, 'invalid_argument'],
      ['DeleteArtifact', { ...ids, name: 'no-such-artifact' }, 404, 'not_found'],
      ['GetSignedArtifactURL', {}, 501, 'unimplemented'],
      ['NoSuchMethod', {}, 404, 'bad_route'],
    ];
    for (const [method, body, status, code] of more) {
      const answer = await post(method, body);
      assert.deepEqual(
        [answer.status, answer.body.code],
        [status, code],
        `${method} ${JSON.stringify(body)}`,
      );
    }
    assert.equal(service.artifacts.has('direct'), false);
  });

  it('will not finalize an artifact that was never uploaded', async () => {
    const created = await post('CreateArtifact', { ...valid(), name: 'never-uploaded' });
    assert.equal(created.status, 200);
    const finalized = await post('FinalizeArtifact', {
      ...valid(),
      name: 'never-uploaded',
      version: undefined,
    });
    assert.deepEqual([finalized.status, finalized.body.code], [412, 'failed_precondition']);
  });
});
