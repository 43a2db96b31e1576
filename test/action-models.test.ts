// Several models in one mode: pr run (docs/action.md#many-models): a glob or a list in `model`, each model
// with its key, and in the YAML list its own build and trace inputs; one comment, one status and one
// verdict, each model's report file beside the combined one. The bundled action built fresh from the
// sources, run as a runner runs it, in a real git repository, against the loopback GitHub API.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { strToU8, zipSync } from 'fflate';
import { InputError, parseInputs } from '../src/action/inputs.ts';
import { keyForPath } from '../src/action/models/model-list.ts';
import { COMMENT_LIMIT } from '../src/render/markdown.ts';
import { formatCount } from '../src/report/format.ts';
import type { Report } from '../src/report/report.ts';
import { expectation, fixture } from './support/analyze-fixture.ts';
import { commands, REPO, ROOT, scenario, useBuiltAction } from './support/action-scenario.ts';

useBuiltAction();

const MARKER = '<!-- paramtrace:comment-key=default -->';
const bytes = (name: string) => readFileSync(fixture(`${name}.onnx`));
/** The unique count of each fixture, from its expectation file (not from paramtrace's output). */
const unique = (name: string) => expectation(name).graph.unique;
const rowOf = (body: string, key: string) =>
  body.split('\n').find((l) => l.startsWith(`| <code>${key}</code> |`));

describe('action: several models in one mode pr run', () => {
  it('a glob: new, removed, grown and unchanged models get one comment, one status and their own files', async (t) => {
    const s = await scenario(t, {
      commits: [
        {
          label: 'base',
          model: null,
          files: {
            'models/vision.onnx': bytes('seed-case-1'),
            'models/text.onnx': bytes('seed-case-1'),
            'models/audio.onnx': bytes('seed-case-2'),
            'models/legacy.onnx': bytes('tied-embedding'),
          },
        },
        {
          label: 'head',
          model: null,
          branch: 'feature',
          files: {
            'models/vision.onnx': bytes('seed-case-2'),
            'models/audio.onnx': bytes('resnet-block'),
            'models/speech.onnx': bytes('shared-matmul'),
          },
          remove: ['models/legacy.onnx'],
        },
      ],
    });
    const inputs = { model: 'models/*.onnx', build: '', 'max-growth': '5%', 'commit-status': 'true' };
    const first = await s.run({ inputs });
    assert.equal(first.code, 1, first.log);
    assert.equal(first.outputs.verdict, 'fail');
    assert.equal(first.outputs['failed-keys'], 'models/audio');
    assert.equal(first.outputs['comment-action'], 'created');
    assert.equal(first.outputs['verdict-headline'], '❌ fail: 1 of 5 models failed (models/audio)');

    const comments = s.comments();
    assert.equal(comments.length, 1, 'one comment for every model');
    const body = comments[0]!.body;
    assert.ok(body.startsWith(`${MARKER}\n`), body.slice(0, 100));
    assert.ok(body.length <= COMMENT_LIMIT);
    const expected: Record<string, [number, number, string]> = {
      'models/vision': [unique('seed-case-1'), unique('seed-case-2'), '✅ pass'],
      'models/text': [unique('seed-case-1'), unique('seed-case-1'), '✅ pass'],
      'models/audio': [unique('seed-case-2'), unique('resnet-block'), '❌'],
      // A model the pull request adds: compared with an empty model (only max-params applies).
      'models/speech': [0, unique('shared-matmul'), '✅ pass'],
      // A model it removes: compared with an empty head.
      'models/legacy': [unique('tied-embedding'), 0, '✅ pass'],
    };
    for (const [key, [base, head, verdict]] of Object.entries(expected)) {
      const row = rowOf(body, key);
      assert.ok(row, `no row for ${key}`);
      assert.ok(row.includes(`| ${formatCount(base)} → ${formatCount(head)} |`), row);
      assert.ok(row.includes(verdict), row);
    }
    assert.match(body, /does not exist at the head&#58; this pull request removes it/);
    assert.match(body, /does not exist at the base&#58; this pull request adds it/);
    assert.deepEqual(
      s.api.state.statusesFor(REPO, s.repo.commits.head!).map((x) => [x.context, x.state]),
      [['paramtrace', 'failure']],
    );

    // Each model's own report file (a mode: pr bundle) and page in model-reports, the combined file at report-path.
    const dir = first.outputs['model-reports']!;
    assert.deepEqual(readdirSync(dir).sort(), [
      ...Object.keys(expected)
        .map((k) => `paramtrace-report-${k.replace('/', '_')}`)
        .sort()
        .flatMap((f) => [`${f}.html`, `${f}.json`]),
    ]);
    const audio = JSON.parse(readFileSync(join(dir, 'paramtrace-report-models_audio.json'), 'utf8'));
    assert.equal(audio.kind, 'paramtrace-run');
    assert.equal(audio.mode, 'pr');
    assert.equal(audio.commentKey, 'models/audio');
    assert.equal(audio.commits.base, s.repo.commits.base);
    assert.equal(audio.pullRequest.headSha, s.repo.commits.head);
    assert.equal((audio.head as Report).counts.unique, unique('resnet-block'));
    const combined = JSON.parse(readFileSync(first.outputs['report-path']!, 'utf8'));
    assert.equal(combined.kind, 'paramtrace-aggregate');
    assert.deepEqual(combined.verdict.failed, ['models/audio']);

    // The same run again: the comment is updated, not duplicated. Then the fork-safe pair's second half
    // (mode: aggregate) takes the model-reports folder as it is.
    const second = await s.run({ inputs: { ...inputs, 'max-growth': '' } });
    assert.equal(second.code, 0, second.log);
    assert.equal(second.outputs['comment-action'], 'updated');
    assert.equal(s.comments().length, 1);
    const aggregated = await s.run({
      inputs: {
        mode: 'aggregate',
        model: '',
        build: '',
        reports: second.outputs['model-reports']!,
        comment: 'never',
        'expected-keys': Object.keys(expected).join(' '),
      },
    });
    assert.equal(aggregated.code, 0, aggregated.log);
    assert.equal(aggregated.outputs.verdict, 'pass');
    assert.deepEqual(s.api.violations, []);
  });

  it('a YAML list: each model its own key, build and trace inputs; a failed model fails only its row', async (t) => {
    const s = await scenario(t, {
      commits: [
        {
          label: 'base',
          model: null,
          files: { 'src/loop.onnx': bytes('loop-body'), 'src/seed.onnx': bytes('seed-case-1') },
        },
        {
          label: 'head',
          model: null,
          branch: 'feature',
          files: { 'src/seed.onnx': bytes('seed-case-3') },
        },
      ],
    });
    const model = [
      '- key: looped',
      '  model: out/loop.onnx',
      '  build: cp src/loop.onnx out/loop.onnx',
      '  input-values: M=3',
      '- key: seed',
      '  model: out/seed.onnx',
      '  build: cp src/seed.onnx out/seed.onnx',
      // A model whose build does not write it: its row fails, the others are still reported.
      '- key: ghost',
      '  model: out/ghost.onnx',
    ].join('\n');
    const run = await s.run({
      inputs: { model, build: 'mkdir -p out', trace: 'true', 'commit-status': 'true' },
    });
    assert.equal(run.code, 1, run.log);
    assert.equal(run.outputs['failed-keys'], 'ghost');
    assert.match(run.outputs['verdict-headline']!, /could not analyze ghost/);
    // Each side: the shared build once, then each model's own (the ghost has none).
    const builds = run.log.split('\n').filter((l) => /^::group::paramtrace: build /.test(l));
    assert.deepEqual(builds, [
      '::group::paramtrace: build head',
      '::group::paramtrace: build head, model item 1',
      '::group::paramtrace: build head, model item 2',
      `::group::paramtrace: build base (merge-base ${s.repo.commits.base!.slice(0, 12)})`,
      `::group::paramtrace: build base (merge-base ${s.repo.commits.base!.slice(0, 12)}), model item 1`,
      `::group::paramtrace: build base (merge-base ${s.repo.commits.base!.slice(0, 12)}), model item 2`,
    ]);
    const body = s.comments()[0]!.body;
    assert.match(
      rowOf(body, 'ghost') ?? '',
      /could not analyze: the build for head .* did not produce the model at out\/ghost\.onnx/,
    );
    assert.ok(
      rowOf(body, 'seed')!.includes(
        `| ${formatCount(unique('seed-case-1'))} → ${formatCount(unique('seed-case-3'))} |`,
      ),
    );
    assert.ok(rowOf(body, 'looped')!.includes('✅ pass'));

    // The looped model was traced with its own input value, the seed model with the default inputs.
    const files = run.outputs['model-reports']!;
    const looped = JSON.parse(readFileSync(join(files, 'paramtrace-report-looped.json'), 'utf8'));
    for (const side of [looped.head, looped.base] as Report[]) {
      assert.equal(side.trace.mode, 'onnxruntime', JSON.stringify(side.trace));
      const m = side.trace.mode === 'onnxruntime' ? side.trace.inputs.find((i) => i.name === 'M') : undefined;
      assert.equal(m?.from, '--value 3', JSON.stringify(side.trace));
    }
    const seed = JSON.parse(readFileSync(join(files, 'paramtrace-report-seed.json'), 'utf8'));
    assert.equal(seed.head.trace.mode, 'onnxruntime');
    assert.ok(!existsSync(join(files, 'paramtrace-report-ghost.json')));
    assert.match(commands(run, 'warning').join('\n'), /ghost/);
  });

  it('a base build that fails fails its own models only', async (t) => {
    const s = await scenario(t, {
      commits: [
        {
          label: 'base',
          model: null,
          files: { 'a.onnx': bytes('seed-case-1'), 'b.onnx': bytes('seed-case-1') },
        },
        {
          label: 'head',
          model: null,
          branch: 'feature',
          files: { 'fix.sh': 'true\n', 'c.onnx': bytes('seed-case-1').subarray(0, 300) },
        },
      ],
    });
    // fix.sh exists only at the head: b's build fails at the base. c is a truncated file.
    const model = ['- a.onnx', '- model: b.onnx', '  build: bash fix.sh', '- c.onnx'].join('\n');
    const run = await s.run({ inputs: { model, build: '' } });
    assert.equal(run.code, 1, run.log);
    assert.equal(run.outputs['failed-keys'], 'b c');
    const body = s.comments()[0]!.body;
    assert.ok(rowOf(body, 'a')!.includes('✅ pass'), rowOf(body, 'a'));
    assert.match(
      rowOf(body, 'b')!,
      /❌ the build command for base \(merge-base [0-9a-f]{12}\), model item 2 failed: &#96;bash fix.sh&#96; exited with status 127/,
    );
    assert.match(rowOf(body, 'c')!, /❌ could not analyze: cannot analyze head model c\.onnx: /);
  });
});

describe('action: a model list with baseline artifacts', () => {
  it("mode baseline writes every model's report; baseline: auto takes them, or rebuilds when one is missing", async (t) => {
    const seed = (n: 1 | 2 | 3) => bytes(`seed-case-${n}`);
    const s = await scenario(t, {
      commits: [
        { label: 'base', model: null, files: { 'models/a.onnx': seed(1), 'models/b.onnx': seed(1) } },
        { label: 'head', model: null, branch: 'feature', files: { 'models/a.onnx': seed(2) } },
      ],
    });
    const base = s.repo.commits.base!;
    s.repo.checkout('base');
    const baseline = await s.run({
      workspace: s.repo.dir,
      head: 'base',
      eventName: 'push',
      event: { ref: 'refs/heads/main', after: base },
      inputs: { mode: 'baseline', model: 'models/*.onnx', build: '' },
    });
    assert.equal(baseline.code, 0, baseline.log);
    const dir = baseline.outputs['model-reports']!;
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['paramtrace-report-models_a.json', 'paramtrace-report-models_b.json']);
    for (const file of files) {
      const bundle = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      assert.equal(bundle.mode, 'baseline');
      assert.equal(bundle.commits.head, base);
      assert.equal(bundle.head.counts.unique, unique('seed-case-1'));
    }
    assert.match(baseline.summary, /paramtrace baseline: 2 models/);
    // What actions/upload-artifact makes of the folder: its files at the top of the zip.
    s.api.state.addArtifact(REPO, 601, {
      name: 'paramtrace-baseline',
      headSha: base,
      content: zipSync(Object.fromEntries(files.map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]))),
    });

    const pr = await s.run({ inputs: { model: 'models/*.onnx', build: '' } });
    assert.equal(pr.code, 0, pr.log);
    assert.match(pr.log, /base from the 'paramtrace-baseline' artifact \d+ of run 601 \(2 models\)/);
    assert.doesNotMatch(pr.log, /::group::paramtrace: build base/, 'the base was not rebuilt');
    assert.doesNotMatch(pr.log, /analyze base/);
    const body = s.comments()[0]!.body;
    assert.ok(rowOf(body, 'models/a')!.includes(`| ${unique('seed-case-1')} → ${unique('seed-case-2')} |`));
    assert.ok(rowOf(body, 'models/b')!.includes(`| ${unique('seed-case-1')} → ${unique('seed-case-1')} |`));

    // A model the artifact has no report for (new here, or not in the baseline's list): the base is rebuilt.
    const more = await s.run({ inputs: { model: 'models/*.onnx\nextra=models/a.onnx', build: '' } });
    assert.equal(more.code, 0, more.log);
    assert.match(
      commands(more, 'warning').join('\n'),
      /the 'paramtrace-baseline' artifact \d+ of run 601 has no report for extra .* Rebuilding the base instead/,
    );
    assert.match(more.log, /analyze base \(merge-base [0-9a-f]{12}\) models\/a\.onnx/);
    assert.ok(
      rowOf(s.comments()[0]!.body, 'extra')!.includes(
        `| ${unique('seed-case-1')} → ${unique('seed-case-2')} |`,
      ),
    );

    // Each file is validated on its own: one of another commit, or two for one model, refuse the artifact.
    const artifact = s.api.state.repo(REPO)!.artifacts.find((a) => a.runId === 601)!;
    const a = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8'));
    const b = new Uint8Array(readFileSync(join(dir, files[1]!)));
    const stale = { ...a, commits: { ...a.commits, head: s.repo.commits.head } };
    const refusals: [Record<string, Uint8Array>, RegExp][] = [
      [
        { [files[0]!]: strToU8(JSON.stringify(stale)), [files[1]!]: b },
        /paramtrace-report-models_a\.json is the report of commit [0-9a-f]{12}, not of the base commit/,
      ],
      [{ [files[0]!]: b, [files[1]!]: b }, /a second report for the model 'models\/b'/],
    ];
    for (const [content, message] of refusals) {
      artifact.content = zipSync(content);
      const refused = await s.run({ inputs: { model: 'models/*.onnx', build: '' } });
      assert.equal(refused.code, 0, refused.log);
      assert.match(commands(refused, 'warning').join('\n'), message);
      assert.match(refused.log, /analyze base \(merge-base/, 'the base was rebuilt');
    }
    assert.deepEqual(s.api.violations, []);
  });
});

describe('action: a model list that names nothing', () => {
  it('a pattern that matches no file on either side stops the run, naming it', async (t) => {
    const s = await scenario(t);
    const run = await s.run({ inputs: { model: 'model-src.onnx\nexports/*.onnx', build: '' } });
    assert.equal(run.code, 1, run.log);
    assert.match(
      commands(run, 'error').join('\n'),
      /model line 2: the pattern 'exports\/\*\.onnx' matched no model file in the head or the base/,
    );
    assert.equal(s.comments().length, 0);
  });
});

describe('inputs: model as a list', () => {
  const get =
    (values: Record<string, string>) =>
    (name: string): string =>
      values[name] ?? '';
  const parse = (values: Record<string, string>) => parseInputs(get({ mode: 'pr', ...values }));

  it('one path or URL is one model; lines, globs and YAML lists are several', () => {
    assert.equal(parse({ model: 'model.onnx' }).models, null);
    assert.equal(parse({ model: 'https://example.com/m.onnx?x=1' }).models, null);
    const lines = parse({ model: 'vision=models/v.onnx\n# a comment\n\nmodels/t.onnx' }).models!;
    assert.deepEqual(
      lines.map((e) => [e.key, e.model, e.where]),
      [
        ['vision', 'models/v.onnx', 'model line 1'],
        [null, 'models/t.onnx', 'model line 4'],
      ],
    );
    assert.equal(parse({ model: 'models/**/*.onnx' }).models!.length, 1);
    const yaml = parse({
      model: '- key: a\n  model: a.onnx\n  input-shapes: {x: [1, 3, 8, 8]}\n  input-dims: batch=2\n- b.onnx',
    }).models!;
    assert.deepEqual(yaml[0]!.trace, { inputShapes: '{"x":[1,3,8,8]}', dims: 'batch=2' });
    assert.equal(yaml[1]!.model, 'b.onnx');
  });

  it('refuses what cannot work, naming the entry', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ model: 'a=x.onnx\na=y.onnx' }, /model line 1 and model line 2 both have the key 'a'/],
      [{ model: 'k=models/*.onnx' }, /model line 1 gives one key to the pattern 'models\/\*\.onnx'/],
      [{ model: '- model: a.onnx\n  shapes: x=1' }, /model item 1 has an unknown field 'shapes'/],
      [{ model: '- key: a\n' }, /model item 1 has no 'model:'/],
      [{ model: '- a: &x [1]\n- b: *x' }, /not a valid YAML list/],
      [{ model: '- [a\n' }, /not a valid YAML list/],
      [{ model: 'a--b=a.onnx\nb.onnx' }, /has the key 'a--b'/],
      [{ model: 'a.onnx\nb.onnx', 'base-model': 'c.onnx' }, /input 'base-model' is one model's base/],
      [{ model: 'a.onnx\nb.onnx', 'base-report': 'r.json' }, /'base-report' and 'baseline: report'/],
      [{ model: 'a.onnx\nb.onnx', mode: 'post', 'artifact-path': 'x' }, /mode 'post' does not take/],
      [
        { model: 'a.onnx\nhttps://example.com/b.onnx' },
        /model line 2 is a URL, which has no base to rebuild/,
      ],
      [{ model: Array.from({ length: 101 }, (_, i) => `m${i}.onnx`).join('\n') }, /101 models; at most 100/],
    ];
    for (const [values, message] of cases) {
      assert.throws(
        () => parse(values),
        (e: unknown) => e instanceof InputError && message.test(e.message),
        String(values.model),
      );
    }
  });

  it('keys from paths', () => {
    assert.equal(keyForPath('models/encoder.onnx'), 'models/encoder');
    assert.equal(keyForPath('models/my model (v2).ONNX'), 'models/my_model__v2_');
    assert.equal(keyForPath('https://example.com/dl/vad.onnx?raw=1'), 'vad');
    assert.equal(keyForPath(`${'x'.repeat(120)}.onnx`), null);
  });
});

describe('docs: several models in one run', () => {
  it("docs/action.md's examples are inputs the action takes", () => {
    const doc = readFileSync(join(ROOT, 'docs', 'action.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Several models in one run'), doc.indexOf('### Matrix jobs'));
    const block = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const steps = parseYaml(block) as { with: Record<string, string> }[];
    assert.equal(steps.length, 3);
    const counts = steps.map((step) => {
      const inputs = parseInputs((name) => step.with[name] ?? '');
      return inputs.models?.length;
    });
    assert.deepEqual(counts, [1, 2, 3]);
  });
});
