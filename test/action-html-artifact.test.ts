// The action uploads its HTML report as an artifact and links it from the comment (docs/action.md#the-html-report):
// the bundled action run as a runner runs it, with ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL pointing at
// a loopback results service whose uploads land in a real Azure Storage emulator (Azurite), and the
// loopback GitHub API for the comment.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { fixture } from './support/analyze-fixture.ts';
import { commands, scenario, useBuiltAction, type Scenario } from './support/action-scenario.ts';
import { startResultsService, type ResultsService } from './support/results-service.ts';

useBuiltAction();

let service: ResultsService;
before(async () => {
  service = await startResultsService();
});
after(async () => {
  await service?.close();
});

const runtimeEnv = () => ({ ACTIONS_RUNTIME_TOKEN: service.token, ACTIONS_RESULTS_URL: service.url });
const RUN_URL = 'https://github.com/octo-org/models/actions/runs/4242';

/** The files of an uploaded artifact, read back from Azurite and unzipped. */
async function artifactFiles(name: string): Promise<Record<string, Buffer>> {
  const entries = unzipSync(new Uint8Array(await service.blob(name)));
  return Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));
}

function run(s: Scenario, inputs: Record<string, string>) {
  return s.run({ inputs: { trace: 'false', ...inputs }, env: runtimeEnv() });
}

describe('action: the HTML report as an artifact', () => {
  it('uploads the page, links it from the comment, and keeps the runtime token from the build', async (t) => {
    const s = await scenario(t);
    const build = 'cp model-src.onnx model.onnx; env > build-env.txt';
    const result = await run(s, { build, 'comment-key': 'page' });
    assert.equal(result.code, 0, result.log);
    const stored = service.artifacts.get('paramtrace-html-page');
    assert.ok(stored, `no artifact; log:\n${result.log}`);
    const url = `${RUN_URL}/artifacts/${stored.id}`;
    assert.equal(result.outputs['html-report-url'], url);
    const body = s.comments()[0]!.body;
    assert.ok(body.includes(`[HTML report](${url})`), body.slice(-800));
    assert.ok(result.summary.includes(`[HTML report](${url})`));
    // The artifact holds the page the action wrote, byte for byte.
    const files = await artifactFiles('paramtrace-html-page');
    const page = result.outputs['html-report-path']!;
    assert.deepEqual(Object.keys(files), ['paramtrace-report-page.html']);
    assert.deepEqual(files['paramtrace-report-page.html'], readFileSync(page));
    assert.match(files['paramtrace-report-page.html']!.toString('utf8'), /^<!doctype html>/i);
    // The build ran without the artifact service's token or URL (read before it, restored only to upload).
    const buildEnv = readFileSync(join(s.repo.dir, 'build-env.txt'), 'utf8');
    assert.ok(!buildEnv.includes(service.token), 'the build saw the runtime token');
    assert.doesNotMatch(buildEnv, /^ACTIONS_(RUNTIME_TOKEN|RESULTS_URL)=/m);
    // Masked (`::add-mask::`, which the runner does not print), and in no other line of the log.
    const lines = result.log.split('\n').filter((l) => l.includes(service.token));
    assert.deepEqual(lines, [`::add-mask::${service.token}`]);
  });

  it('a re-run replaces its earlier page; a failed upload is a warning and the comment goes without the link', async (t) => {
    const s = await scenario(t);
    // The same job twice in one run (a re-run): the second page replaces the first under the same name.
    const first = await run(s, { 'comment-key': 'twice' });
    assert.equal(first.code, 0, first.log);
    const firstId = service.artifacts.get('paramtrace-html-twice')!.id;
    const second = await run(s, { 'comment-key': 'twice' });
    assert.equal(second.code, 0, second.log);
    const secondId = service.artifacts.get('paramtrace-html-twice')!.id;
    assert.notEqual(secondId, firstId);
    assert.equal(second.outputs['html-report-url'], `${RUN_URL}/artifacts/${secondId}`);
    assert.ok(s.comments()[0]!.body.includes(`[HTML report](${RUN_URL}/artifacts/${secondId})`));
    assert.doesNotMatch(commands(second, 'warning').join('\n'), /HTML|artifact named/);

    // The service refuses the upload: a warning, and the comment is updated without the link.
    service.failNext('CreateArtifact', 'permission_denied', 'no artifacts for you');
    const refused = await run(s, { 'comment-key': 'twice' });
    assert.equal(refused.code, 0, refused.log);
    assert.match(
      commands(refused, 'warning').join('\n'),
      /the HTML report could not be uploaded: the artifact upload failed: .*no artifacts for you/,
    );
    assert.equal(refused.outputs['html-report-url'], '');
    assert.equal(refused.outputs['comment-action'], 'updated');
    assert.doesNotMatch(s.comments()[0]!.body, /HTML report/);
    // With fail-on-api-error the same is an error.
    service.failNext('CreateArtifact', 'permission_denied', 'no artifacts for you');
    const strict = await run(s, { 'comment-key': 'twice', 'fail-on-api-error': 'true' });
    assert.equal(strict.code, 1, strict.log);
    assert.match(commands(strict, 'error').join('\n'), /the HTML report could not be uploaded/);
  });

  it('without an artifact service, or with html-artifact: false, the page is only written', async (t) => {
    const s = await scenario(t);
    const local = await s.run({ inputs: { 'comment-key': 'local' } });
    assert.equal(local.code, 0, local.log);
    assert.equal(local.outputs['html-report-url'], '');
    assert.match(local.log, /no artifact service in this environment/);
    assert.doesNotMatch(commands(local, 'warning').join('\n'), /HTML|artifact service/);
    const off = await run(s, { 'comment-key': 'off', 'html-artifact': 'false' });
    assert.equal(off.code, 0, off.log);
    assert.equal(service.artifacts.has('paramtrace-html-off'), false);
    assert.ok(readFileSync(off.outputs['html-report-path']!, 'utf8').length > 0);
  });

  it('several models in one run: every page in one artifact, linked once', async (t) => {
    const seed = readFileSync(fixture('seed-case-1.onnx'));
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: null, files: { 'm/a.onnx': seed, 'm/b.onnx': seed } },
        { label: 'head', model: null, branch: 'feature', files: { 'm/c.onnx': seed } },
      ],
    });
    const result = await run(s, { model: 'm/*.onnx', build: '', 'comment-key': 'many' });
    assert.equal(result.code, 0, result.log);
    const stored = service.artifacts.get('paramtrace-html-many');
    assert.ok(stored, result.log);
    const files = await artifactFiles('paramtrace-html-many');
    assert.deepEqual(Object.keys(files).sort(), [
      'paramtrace-report-m_a.html',
      'paramtrace-report-m_b.html',
      'paramtrace-report-m_c.html',
    ]);
    const dir = result.outputs['model-reports']!;
    for (const [name, bytes] of Object.entries(files)) assert.deepEqual(bytes, readFileSync(join(dir, name)));
    const url = `${RUN_URL}/artifacts/${stored.id}`;
    assert.equal(result.outputs['html-report-url'], url);
    assert.ok(s.comments()[0]!.body.includes(`[HTML reports](${url})`));
  });
});
